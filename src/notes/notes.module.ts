import type { Context } from "../common/context.js";
import { nodeType, type ModuleDefinition } from "../common/module.js";
import type { SessionNoteRow } from "../db/schema.js";
import { noteLoaders } from "./notes.loaders.js";
import {
  CenterServiceRecordsResolver,
  ChartNoteResolver,
  NoteAddendumResolver,
  NoteMemberResolver,
  NoteResolver,
  ParticipantChartResolver,
  ServiceRecordResolver,
  SessionNoteResolver,
} from "./notes.resolver.js";
import { noteVisibility, notesForbidden } from "./notes.service.js";

/** A note, or an object that belongs to one (an addendum, a service record), as node(id:) shows it: VIEWERs are refused. */
async function noteVisible(ctx: Context, note: SessionNoteRow | null): Promise<boolean> {
  const visibility = note ? await noteVisibility(ctx, note) : "missing";
  if (visibility === "forbidden") throw notesForbidden();
  return visibility === "readable";
}

export const notesModule: ModuleDefinition<{ notes: ReturnType<typeof noteLoaders> }> = {
  name: "notes",
  resolvers: [
    SessionNoteResolver,
    NoteResolver,
    NoteMemberResolver,
    NoteAddendumResolver,
    ChartNoteResolver,
    ParticipantChartResolver,
    CenterServiceRecordsResolver,
    ServiceRecordResolver,
  ],
  loaders: { notes: (db) => noteLoaders(db) },
  nodeTypes: [
    nodeType({
      typeName: "SessionNote",
      load: async (ctx, id) => {
        const row = await ctx.loaders.notes.byId.load(id);
        return row && { ...row, memberIds: (await ctx.loaders.notes.membersByNoteId.load(id)).map((m) => m.participantId) };
      },
      visible: (ctx, row) => noteVisible(ctx, row),
    }),
    nodeType({
      typeName: "NoteAddendum",
      load: (ctx, id) => ctx.loaders.notes.addendumById.load(id),
      visible: async (ctx, row) => noteVisible(ctx, await ctx.loaders.notes.byId.load(row.noteId)),
    }),
    nodeType({
      typeName: "ServiceRecord",
      load: (ctx, id) => ctx.loaders.notes.serviceRecordById.load(id),
      visible: async (ctx, row) =>
        ctx.access.can("service.read", { centerId: row.centerId }) && noteVisible(ctx, await ctx.loaders.notes.byId.load(row.noteId)),
    }),
  ],
};
