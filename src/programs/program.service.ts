import { eq } from "drizzle-orm";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { Problems, UserErrorCode } from "../common/errors.js";
import { idOf, intInRange, LIMITS, notFound, optionalText, text } from "../common/validate.js";
import { findVisibleCenter } from "../centers/center.service.js";
import { WriteSteps } from "../common/steps.js";
import { programs, type ProgramRow } from "../db/schema.js";
import type { CreateProgramInput, UpdateProgramInput } from "./program.inputs.js";
import { ProgramStatus } from "./program.type.js";

const BILLING_CODE = /^(\d{4}[0-9FTU]|[A-Z]\d{4})(-[A-Z0-9]{2}){0,4}$/;
const MAX_TOPICS = 200;

export async function findVisibleProgram(ctx: Context, globalId: string, field: string): Promise<ProgramRow> {
  const id = idOf("Program", globalId, field);
  const row = await ctx.loaders.programs.byId.load(id);
  if (!row || !ctx.access.canSeeCenter(row.centerId)) throw notFound("Program", field);
  return row;
}

function curriculumOf(p: Problems, topics: string[] | null | undefined): string[] | undefined {
  if (topics == null) return undefined;
  if (topics.length > MAX_TOPICS) p.add("curriculum", UserErrorCode.INVALID, `curriculum has at most ${MAX_TOPICS} topics`);
  return topics.map((t, i) => text(p, `curriculum.${i}`, t, { required: true }) ?? "");
}

function billingCodeOf(p: Problems, value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const code = value.trim().toUpperCase();
  if (code === "") return null;
  if (!BILLING_CODE.test(code)) p.add("billingCode", UserErrorCode.INVALID, "billingCode must be a CPT (e.g. 90853) or HCPCS (e.g. H0005) code");
  return code;
}

export async function createProgram(ctx: Context, input: CreateProgramInput): Promise<ProgramRow> {
  const center = await findVisibleCenter(ctx, input.centerId, "centerId");
  ctx.access.require("center.configure", { centerId: center.id }, "Only center admins may create programs");
  const p = new Problems();
  const name = text(p, "name", input.name, { required: true });
  const description = text(p, "description", input.description, { max: LIMITS.text });
  const curriculum = curriculumOf(p, input.curriculum) ?? [];
  intInRange(p, "attendancePolicy.absencesBeforeFollowUp", input.attendancePolicy?.absencesBeforeFollowUp, 1, 52);
  intInRange(p, "completionRule.minimumAttendedSessions", input.completionRule?.minimumAttendedSessions, 1, 1000);
  const billingCode = billingCodeOf(p, input.billingCode) ?? null;
  p.throwIfAny();
  const [row] = await ctx.db
    .insert(programs)
    .values({
      centerId: center.id,
      name: name!,
      description,
      curriculum,
      absencesBeforeFollowUp: input.attendancePolicy?.absencesBeforeFollowUp ?? 2,
      minimumAttendedSessions: input.completionRule?.minimumAttendedSessions ?? null,
      billingCode,
      unitRule: input.unitRule ?? "SESSION",
      status: input.status ?? "ACTIVE",
    })
    .returning();
  return row;
}

/** Steps run in the transaction that changes a program's attendance policy (composed in src/steps.ts). */
export const programPolicySteps = new WriteSteps<[ProgramRow]>("program attendance policy changed");

export async function updateProgram(ctx: Context, input: UpdateProgramInput): Promise<ProgramRow> {
  const program = await findVisibleProgram(ctx, input.programId, "programId");
  ctx.access.require("center.configure", { centerId: program.centerId }, "Only center admins may change programs");
  const p = new Problems();
  const name = optionalText(p, "name", input.name, { required: true });
  const description = input.description === undefined ? undefined : text(p, "description", input.description, { max: LIMITS.text });
  const curriculum = curriculumOf(p, input.curriculum);
  intInRange(p, "attendancePolicy.absencesBeforeFollowUp", input.attendancePolicy?.absencesBeforeFollowUp, 1, 52);
  intInRange(p, "completionRule.minimumAttendedSessions", input.completionRule?.minimumAttendedSessions, 1, 1000);
  const billingCode = billingCodeOf(p, input.billingCode);
  if (program.status === "RETIRED" && input.status && input.status !== ProgramStatus.RETIRED) {
    p.add("status", UserErrorCode.INVALID_TRANSITION, "A retired program cannot be reactivated; create a new one");
  }
  p.throwIfAny();
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(programs)
      .set({
        ...(name ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(curriculum ? { curriculum } : {}),
        ...(input.attendancePolicy ? { absencesBeforeFollowUp: input.attendancePolicy.absencesBeforeFollowUp } : {}),
        ...(input.completionRule ? { minimumAttendedSessions: input.completionRule.minimumAttendedSessions ?? null } : {}),
        ...(billingCode !== undefined ? { billingCode } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.unitRule ? { unitRule: input.unitRule } : {}),
        updatedAt: clock.now(),
      })
      .where(eq(programs.id, program.id))
      .returning();
    if (updated && updated.absencesBeforeFollowUp !== program.absencesBeforeFollowUp) await programPolicySteps.run(tx, updated);
    return updated;
  });
  ctx.loaders.programs.byId.clear(row.id).prime(row.id, row);
  return row;
}
