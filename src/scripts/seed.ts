// Loads a demo center with ten weeks of history: `npm run seed`. Goes through the same services
// as the API (so the demo obeys every rule), then backdates the enrolments to their groups' start
// so that past sessions have rosters. Ten weeks, so that every trend has two 28-day periods to
// compare: a few members drift away (DECLINING; their absences open follow-ups through the attendance
// write steps, as in the API, and put them at HIGH risk), a few come back after a patchy start
// (IMPROVING), a few never miss (STEADY); some milestones fall due in the coming days,
// two peer mentors are paired and a few BARC-10 assessments recorded. Prints a token for the demo's admin.
//
// All or nothing: everything is written in one transaction. Run again, it says the demo center is
// already there and changes nothing; `npm run seed -- --reset` replaces it. It acts as an existing
// organisation admin (e.g. one made by BOOTSTRAP_ADMIN_EMAIL), or creates the demo's own when there
// is none. On the embedded database it needs the server stopped (PGlite is single-process): while
// the server runs it says so in one line and writes nothing.
import "reflect-metadata";
import { and, asc, eq, inArray, is, isNotNull, notExists, sql } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { Access } from "../auth/access.js";
import { mintToken } from "../auth/tokens.js";
import { loadViewer } from "../auth/viewer.js";
import { clock, resetClock, setClock } from "../common/clock.js";
import { toGlobalId } from "../common/ids.js";
import type { Context } from "../common/context.js";
import { loadConfig } from "../config.js";
import { openDatabase, type Db } from "../db/client.js";
import * as schema from "../db/schema.js";
import { centers, enrollmentEvents, enrollments, staff, staffMemberships } from "../db/schema.js";
import { createLoaders } from "../loaders.js";
import { composeWriteSteps } from "../steps.js";
import { drainEngagement } from "../engagement/engagement.worker.js";
import { createCenter } from "../centers/center.service.js";
import { createStaff, ensureBootstrapAdmin } from "../staff/staff.service.js";
import { createProgram } from "../programs/program.service.js";
import { createGroup } from "../groups/group.service.js";
import { updateGroup } from "../scheduling/scheduling.service.js";
import { createParticipant } from "../participants/participant.service.js";
import { enrollParticipant } from "../enrollments/enrollment.service.js";
import { cancelSession, completeSession, scheduleSessions } from "../sessions/session.service.js";
import { recordAttendance } from "../attendance/attendance.service.js";
import { assignPeerMentor } from "../mentorships/mentorship.service.js";
import { recordRecoveryCapital } from "../recoverycapital/recoverycapital.service.js";
import { RecoveryCapitalInstrument } from "../recoverycapital/recoverycapital.type.js";
import { addDays, dayInZone } from "../sessions/timezone.js";
import { DayOfWeek } from "../groups/group.type.js";
import { StaffRole } from "../staff/staff.type.js";
import { AttendanceStatus } from "../attendance/attendance.type.js";
import { runScript } from "./script.js";
import { saveSessionNote, signSessionNote } from "../notes/notes.service.js";
import { Participation } from "../notes/notes.type.js";

const DEMO_CENTER = "Riverside Recovery Center";
/** Weeks of history: two 28-day periods for the engagement trend to compare, and some before. */
const WEEKS = 10;
const TZ = "America/New_York";
const ORG_ADMIN = "org-admin@demo.example";
const CENTER_ADMIN = "admin@riverside.example";
const DEMO_STAFF = [
  [CENTER_ADMIN, "Dana Whitfield", StaffRole.ADMIN],
  ["m.okoro@riverside.example", "Dr. Michael Okoro", StaffRole.CLINICIAN],
  ["s.lindqvist@riverside.example", "Sara Lindqvist, LCSW", StaffRole.CLINICIAN],
  ["j.romero@riverside.example", "Jamie Romero", StaffRole.FACILITATOR],
  ["p.achebe@riverside.example", "Priya Achebe", StaffRole.FACILITATOR],
  ["board@riverside.example", "Quality Board", StaffRole.VIEWER],
] as const;

/** Deterministic pseudo-random numbers, so every seed gives the same demo. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function contextFor(db: Db, authSubject: string): Promise<Context> {
  const viewer = await loadViewer(db, authSubject);
  if (!viewer) throw new Error(`no active staff member with subject ${authSubject}`);
  return { requestId: "seed", viewer, access: new Access(viewer), db, loaders: createLoaders(db) };
}

/** The organisation admin the seed acts as: the first active one, or the demo's own when there is none. */
async function orgAdminSubject(db: Db): Promise<string> {
  const [existing] = await db
    .select({ authSubject: staff.authSubject })
    .from(staff)
    .where(and(eq(staff.isOrgAdmin, true), eq(staff.status, "ACTIVE")))
    .orderBy(asc(staff.createdAt), asc(staff.id))
    .limit(1);
  if (existing) return existing.authSubject;
  await ensureBootstrapAdmin(db, ORG_ADMIN);
  const [made] = await db
    .select({ authSubject: staff.authSubject })
    .from(staff)
    .where(sql`lower(${staff.email}) = ${ORG_ADMIN}`);
  if (!made) throw new Error("an organisation admin exists but none is active: activate one, or set BOOTSTRAP_ADMIN_EMAIL");
  return made.authSubject;
}

/**
 * Removes the demo center: every row of every table that carries its center_id (children before
 * parents, from the schema's foreign keys, so tables added later are covered), then the center, then
 * the demo's staff members who belong to no other center.
 */
async function removeDemo(db: Db, centerId: string): Promise<void> {
  const tables = (Object.values(schema) as unknown[]).filter(
    (v): v is PgTable => is(v, PgTable) && getTableConfig(v).columns.some((c) => c.name === "center_id"),
  );
  const deleted = new Set<PgTable>();
  const referencedBy = (t: PgTable) =>
    tables.filter((other) => other !== t && !deleted.has(other) && getTableConfig(other).foreignKeys.some((fk) => fk.reference().foreignTable === t));
  while (deleted.size < tables.length) {
    const next = tables.find((t) => !deleted.has(t) && referencedBy(t).length === 0);
    if (!next) throw new Error("cannot order the tables to remove the demo center (a foreign-key cycle)");
    await db.delete(next).where(sql`center_id = ${centerId}`);
    deleted.add(next);
  }
  await db.delete(centers).where(eq(centers.id, centerId));
  await db.delete(staff).where(
    and(
      inArray(
        staff.email,
        DEMO_STAFF.map(([email]) => email),
      ),
      eq(staff.isOrgAdmin, false),
      notExists(
        db
          .select({ one: sql`1` })
          .from(staffMemberships)
          .where(eq(staffMemberships.staffId, staff.id)),
      ),
    ),
  );
}

const FIRST = [
  "Ava",
  "Ben",
  "Carla",
  "Dev",
  "Elena",
  "Farid",
  "Grace",
  "Hector",
  "Imani",
  "Jon",
  "Kira",
  "Luis",
  "Maya",
  "Noah",
  "Olivia",
  "Pete",
  "Quinn",
  "Rosa",
  "Sam",
  "Tara",
  "Uma",
  "Victor",
  "Wendy",
  "Xavier",
  "Yara",
  "Zane",
  "Abby",
  "Brett",
  "Chloe",
  "Dmitri",
  "Esme",
  "Flynn",
];
const LAST = [
  "Alvarez",
  "Brooks",
  "Chen",
  "Diaz",
  "Evans",
  "Foster",
  "Garcia",
  "Hughes",
  "Ito",
  "Jensen",
  "Khan",
  "Lopez",
  "Morgan",
  "Nguyen",
  "Okafor",
  "Patel",
  "Quinn",
  "Reyes",
  "Singh",
  "Turner",
  "Usman",
  "Vega",
  "Walsh",
  "Xu",
  "Young",
  "Zimmer",
  "Abbott",
  "Byrne",
  "Cruz",
  "Dunn",
  "Ellis",
  "Ford",
];

/**
 * Recovery starts that make the demo's engagement pages say something whatever the date: two
 * long-standing members who can mentor, and four whose next milestone falls in the coming days
 * ("90 days" in 3, "60 days" in 6, "30 days" in 10, "90 days" in 12). Index into FIRST, days before today.
 */
const RECOVERY_STARTS: Record<number, number> = { 0: 640, 15: 410, 1: 90 - 3, 16: 60 - 6, 23: 30 - 10, 27: 90 - 12 };
/** Peer mentor pairs [mentor, mentee]: each group's peer mentor supports a member who is drifting away. */
const MENTOR_PAIRS: Array<[number, number]> = [
  [0, 4],
  [15, 18],
];
/** BARC-10 assessments: [participant, days ago, ten answers 1-6]. */
const ASSESSMENTS: Array<[number, number, number[]]> = [
  [4, 24, [3, 2, 4, 3, 2, 3, 4, 2, 3, 3]],
  [4, 3, [2, 2, 3, 2, 2, 3, 3, 2, 2, 3]],
  [18, 10, [4, 3, 4, 5, 3, 4, 4, 3, 4, 4]],
  [0, 14, [6, 5, 6, 5, 6, 6, 5, 6, 5, 6]],
];

interface Seeded {
  centerId: string;
  created: boolean;
  replaced: boolean;
  orgAdmin: string;
}

async function seed(db: Db, reset: boolean): Promise<Seeded> {
  const [existing] = await db.select().from(centers).where(eq(centers.name, DEMO_CENTER)).orderBy(asc(centers.createdAt)).limit(1);
  if (existing && !reset) return { centerId: existing.id, created: false, replaced: false, orgAdmin: await orgAdminSubject(db) };
  if (existing) await removeDemo(db, existing.id);
  const taken = await db
    .select({ email: staff.email })
    .from(staff)
    .where(
      inArray(
        staff.email,
        DEMO_STAFF.map(([email]) => email),
      ),
    );
  if (taken.length) {
    throw new Error(`${taken[0].email} already exists without the demo center: run npm run seed -- --reset, or remove that staff member`);
  }

  const orgAdmin = await orgAdminSubject(db);
  const org = await contextFor(db, orgAdmin);
  const center = await createCenter(org, { name: DEMO_CENTER, timezone: TZ, address: "12 River Road, Springfield", phone: "+1 555 0100" });
  const centerGid = toGlobalId("Center", center.id);

  const staffIds: Record<string, string> = {};
  for (const [email, name, role] of DEMO_STAFF) {
    const s = await createStaff(org, { email, name, memberships: [{ centerId: centerGid, role }] });
    staffIds[email] = toGlobalId("Staff", s.id);
  }
  const admin = await contextFor(db, CENTER_ADMIN);

  const relapse = await createProgram(admin, {
    centerId: centerGid,
    name: "Relapse Prevention",
    description: "Cognitive-behavioural skills for high-risk situations, cravings and early warning signs.",
    curriculum: [
      "Identifying triggers",
      "Coping with cravings",
      "Managing stress",
      "Building a support network",
      "Healthy routines",
      "Handling lapses",
      "Communication skills",
      "Relapse prevention plan",
    ],
    attendancePolicy: { absencesBeforeFollowUp: 2 },
    completionRule: { minimumAttendedSessions: 6 },
    billingCode: "H0005",
  });
  const family = await createProgram(admin, {
    centerId: centerGid,
    name: "Family & Relationships",
    description: "Rebuilding trust and boundaries with family members and partners.",
    curriculum: ["Understanding addiction as a family", "Boundaries", "Rebuilding trust", "Communication under stress"],
    billingCode: "90853",
  });
  const alumni = await createProgram(admin, {
    centerId: centerGid,
    name: "Alumni Peer Support",
    description: "Open peer support for graduates of intensive outpatient treatment.",
  });

  const today = dayInZone(clock.now(), TZ);
  const start = addDays(today, -7 * WEEKS);
  const groupSpecs = [
    {
      program: relapse,
      name: "Relapse Prevention — Monday Evening",
      capacity: 12,
      days: [DayOfWeek.MONDAY, DayOfWeek.THURSDAY],
      time: "18:30",
      minutes: 90,
      facilitators: ["j.romero@riverside.example"],
      location: "Room 2B",
    },
    {
      program: relapse,
      name: "Relapse Prevention — Morning",
      capacity: 8,
      days: [DayOfWeek.WEDNESDAY],
      time: "10:00",
      minutes: 90,
      facilitators: ["p.achebe@riverside.example"],
      location: "Room 1A",
    },
    {
      program: family,
      name: "Family Circle",
      capacity: 10,
      days: [DayOfWeek.TUESDAY],
      time: "19:00",
      minutes: 75,
      facilitators: ["p.achebe@riverside.example", "j.romero@riverside.example"],
      location: "Community Hall",
    },
    {
      program: alumni,
      name: "Alumni Saturday",
      capacity: 6,
      days: [DayOfWeek.SATURDAY],
      time: "11:00",
      minutes: 60,
      facilitators: ["j.romero@riverside.example"],
      virtualLink: "https://meet.example.org/riverside-alumni",
    },
  ];
  const groupRows = [];
  for (const g of groupSpecs) {
    const row = await createGroup(admin, {
      programId: toGlobalId("Program", g.program.id),
      name: g.name,
      capacity: g.capacity,
      startsOn: start,
      endsOn: addDays(today, 90),
      facilitatorIds: g.facilitators.map((f) => staffIds[f]),
      schedule: { daysOfWeek: g.days, startTime: g.time, durationMinutes: g.minutes },
      location: g.location,
      virtualLink: g.virtualLink,
    });
    groupRows.push(await updateGroup(admin, { groupId: toGlobalId("Group", row.id), status: "ACTIVE" as never }));
  }

  const rand = prng(20261123);
  const participantIds: string[] = [];
  for (let i = 0; i < 32; i++) {
    const dateOfBirth = `${1965 + Math.floor(rand() * 38)}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
    const daysInRecovery = 20 + Math.floor(rand() * 700);
    const p = await createParticipant(admin, {
      centerId: centerGid,
      firstName: FIRST[i],
      lastName: LAST[i],
      externalId: `MRN-${String(10421 + i * 7)}`,
      dateOfBirth,
      recoveryStartDate: addDays(today, -(RECOVERY_STARTS[i] ?? daysInRecovery)),
      phone: `+1 555 01${String(10 + i).padStart(2, "0")}`,
    });
    participantIds.push(toGlobalId("Participant", p.id));
  }

  // Enrolments: the first two groups fill up (the Monday group gets a waitlist), a peer mentor each.
  const plan: Array<[number, number[]]> = [
    [0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]],
    [1, [15, 16, 17, 18, 19, 20, 21]],
    [2, [22, 23, 24, 25, 26, 0, 3]],
    [3, [27, 28, 29, 30, 31]],
  ];
  for (const [gi, members] of plan) {
    for (const [k, pi] of members.entries()) {
      await enrollParticipant(admin, {
        groupId: toGlobalId("Group", groupRows[gi].id),
        participantId: participantIds[pi],
        role: k === 0 ? ("PEER_MENTOR" as never) : undefined,
      });
    }
  }
  // Demo history: the seats were taken when the groups started.
  const startedAt = new Date(`${start}T12:00:00Z`);
  await db.update(enrollments).set({ enrolledAt: startedAt }).where(eq(enrollments.centerId, center.id));
  await db
    .update(enrollments)
    .set({ activatedAt: startedAt })
    .where(and(eq(enrollments.centerId, center.id), isNotNull(enrollments.activatedAt)));
  await db.update(enrollmentEvents).set({ occurredAt: startedAt }).where(eq(enrollmentEvents.centerId, center.id));

  // Sessions for ten weeks back and two ahead; one holiday cancellation; attendance for the past.
  console.log("Recording ten weeks of sessions and attendance…");
  const now = clock.now().getTime();
  /** Where the trend's last 28 days begin (src/engagement: the 28 × 24 hours before now). */
  const recentFrom = now - 28 * 24 * 3_600_000;
  for (const [gi, g] of groupRows.entries()) {
    const sessions = await scheduleSessions(admin, { groupId: toGlobalId("Group", g.id), from: start, to: addDays(today, 14) });
    const members = plan[gi][1].slice(0, g.capacity);
    for (const [si, s] of sessions.entries()) {
      if (gi === 2 && si === 1) {
        await cancelSession(admin, { sessionId: toGlobalId("Session", s.id), reason: "Facilitator out sick" });
        continue;
      }
      if (s.startsAt.getTime() > now) continue;
      const held = sessions.filter((x) => x.startsAt.getTime() <= now).length;
      const records = members.map((pi, mi) => {
        // A few people drift away: they came every time, then missed the last three sessions.
        const slipping = (gi === 0 && (mi === 4 || mi === 9)) || (gi === 1 && mi === 3);
        // A few come back: they missed every other session until four weeks ago, and every one since.
        const returning = (gi === 0 && mi === 6) || (gi === 3 && mi === 1);
        // A few never miss.
        const regular = (gi === 1 && mi === 1) || (gi === 2 && mi === 1);
        const r = rand();
        let status: AttendanceStatus;
        if (slipping) status = si >= held - 3 ? AttendanceStatus.ABSENT : AttendanceStatus.PRESENT;
        else if (returning) status = s.startsAt.getTime() <= recentFrom && si % 2 === 1 ? AttendanceStatus.ABSENT : AttendanceStatus.PRESENT;
        else if (regular) status = AttendanceStatus.PRESENT;
        else if (r < 0.74) status = AttendanceStatus.PRESENT;
        else if (r < 0.84) status = AttendanceStatus.LATE;
        else if (r < 0.88) status = AttendanceStatus.LEFT_EARLY;
        else if (r < 0.94) status = AttendanceStatus.EXCUSED;
        else status = AttendanceStatus.ABSENT;
        return {
          participantId: participantIds[pi],
          status,
          note: status === AttendanceStatus.EXCUSED ? "Called ahead: work shift" : undefined,
        };
      });
      await recordAttendance(admin, { sessionId: toGlobalId("Session", s.id), records });
      await completeSession(admin, { sessionId: toGlobalId("Session", s.id) });
      await writeNote(admin, s, records, now);
    }
  }

  // Peer mentors and recovery capital.
  for (const [mentor, mentee] of MENTOR_PAIRS) {
    await assignPeerMentor(admin, { mentorId: participantIds[mentor], menteeId: participantIds[mentee] });
  }
  for (const [pi, daysAgo, items] of ASSESSMENTS) {
    await recordRecoveryCapital(admin, {
      participantId: participantIds[pi],
      assessedOn: addDays(today, -daysAgo),
      instrument: RecoveryCapitalInstrument.BARC_10,
      items,
    });
  }
  return { centerId: center.id, created: true, replaced: Boolean(existing), orgAdmin };
}

const GROUP_SUMMARIES = [
  "The group reviewed the week's high-risk situations and rehearsed refusal skills in pairs.",
  "Members mapped early warning signs and shared one coping strategy that worked this week.",
  "Psychoeducation on cravings, then a guided urge-surfing exercise and discussion.",
];
const PROGRESS = [
  "Named two triggers at work and a plan for each.",
  "Quiet at first; engaged when invited and practised the skill.",
  "Shared a coping strategy that helped over the weekend.",
  "Reports steady mood and regular meetings.",
];
const PLANS = ["Practise the skill daily and report back next week.", "Call sponsor before the weekend.", "Continue weekly group; review plan in two weeks."];
const PARTICIPATIONS = [Participation.ACTIVE, Participation.ACTIVE, Participation.MINIMAL, Participation.ACTIVE, Participation.NONE];

/**
 * The session's note: a part for every member who attended. Sessions of the last week keep a
 * DRAFT (for the demo to finish); older ones are signed an hour after the session ended (the clock
 * is set to that hour while signing, as a facilitator would have done).
 */
async function writeNote(
  ctx: Context,
  s: { id: string; startsAt: Date; endsAt: Date },
  records: Array<{ participantId: string; status: AttendanceStatus }>,
  now: number,
) {
  const attended = records.filter(
    (r) => r.status === AttendanceStatus.PRESENT || r.status === AttendanceStatus.LATE || r.status === AttendanceStatus.LEFT_EARLY,
  );
  const k = Math.floor(s.startsAt.getTime() / 86_400_000);
  const input = {
    sessionId: toGlobalId("Session", s.id),
    interventions: "CBT skills practice; motivational interviewing",
    groupSummary: GROUP_SUMMARIES[k % GROUP_SUMMARIES.length],
    members: attended.map((r, i) => ({
      participantId: r.participantId,
      participation: PARTICIPATIONS[(k + i) % PARTICIPATIONS.length],
      progress: PROGRESS[(k + i) % PROGRESS.length],
      plan: PLANS[(k + i) % PLANS.length],
    })),
  };
  if (now - s.startsAt.getTime() <= 7 * 86_400_000) {
    await saveSessionNote(ctx, input);
    return;
  }
  setClock(new Date(s.endsAt.getTime() + 3_600_000));
  try {
    const note = await saveSessionNote(ctx, input);
    await signSessionNote(ctx, { noteId: toGlobalId("SessionNote", note.id), version: note.version });
  } finally {
    resetClock();
  }
}

composeWriteSteps();
await runScript("seed", async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--reset");
  if (unknown.length) {
    console.error(`usage: npm run seed [-- --reset]   (unknown: ${unknown.join(" ")})`);
    process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrationUrl: config.databaseMigrationUrl });
  try {
    // One transaction: the services' own transactions become savepoints inside it.
    const { centerId, created, replaced, orgAdmin } = await database.db.transaction((tx) => seed(tx as unknown as Db, args.includes("--reset")));
    // The kept engagement figures of the seeded history (its dates were set after the writes' marks).
    await database.db.execute(sql`update engagement_states set next_recheck_at = '-infinity'`);
    await database.db.execute(sql`update engagement_sessions set dirty = true`);
    await drainEngagement(database.db);
    if (!created) {
      console.log(`"${DEMO_CENTER}" is already there; nothing changed (npm run seed -- --reset replaces it).`);
    } else {
      console.log(replaced ? `Replaced "${DEMO_CENTER}".` : `Seeded "${DEMO_CENTER}".`);
    }
    console.log(`Center id: ${toGlobalId("Center", centerId)}`);
    console.log(`Center admin: ${CENTER_ADMIN}   Org admin: ${orgAdmin}`);
    const token = config.auth.jwtSecret ? await mintToken(config.auth, CENTER_ADMIN, { expiresIn: "12h" }) : null;
    if (token) {
      console.log(`\nToken for ${CENTER_ADMIN} (12 h):\n${token}`);
    } else {
      console.log(`\nMint tokens with your identity provider for ${CENTER_ADMIN}.`);
    }
  } finally {
    await database.close();
  }
});
