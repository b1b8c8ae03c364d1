// The export endpoints, by path, for the HTTP server to mount (GET only).
import { exportAttendanceCsv } from "./attendance.csv.js";
import { searchDocumentReferences } from "./documentreference.js";
import { searchEncounters } from "./fhir.js";
import { exportServicesCsv } from "./services.csv.js";
import type { ExportRequest, ExportResponse } from "./http.js";

export const exportRoutes = new Map<string, (req: ExportRequest) => Promise<ExportResponse>>([
  ["/exports/attendance.csv", exportAttendanceCsv],
  ["/fhir/Encounter", searchEncounters],
  ["/exports/services.csv", exportServicesCsv],
  ["/fhir/DocumentReference", searchDocumentReferences],
]);
