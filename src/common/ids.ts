// Opaque global IDs: base64url("Type:uuid"). Every object type with an id implements Node.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NodeTypeName =
  | "Center"
  | "Staff"
  | "Program"
  | "Group"
  | "Participant"
  | "Enrollment"
  | "Session"
  | "Attendance"
  | "FollowUp"
  | "Mentorship"
  | "RecoveryCapitalAssessment"
  | "ApiClient"
  | "Consent"
  | "SessionNote"
  | "NoteAddendum"
  | "ServiceRecord";

export function toGlobalId(type: NodeTypeName, id: string): string {
  return Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
}

export function fromGlobalId(globalId: string): { type: string; id: string } | null {
  if (typeof globalId !== "string" || globalId.length > 200) return null;
  let decoded: string;
  try {
    decoded = Buffer.from(globalId, "base64url").toString("utf8");
  } catch {
    return null;
  }
  const sep = decoded.indexOf(":");
  if (sep < 1) return null;
  const type = decoded.slice(0, sep);
  const id = decoded.slice(sep + 1);
  if (!UUID.test(id)) return null;
  return { type, id: id.toLowerCase() };
}

/** The database id behind a global id of the given type, or null when it is not one. */
export function decodeId(globalId: string, type: NodeTypeName): string | null {
  const parsed = fromGlobalId(globalId);
  return parsed && parsed.type === type ? parsed.id : null;
}
