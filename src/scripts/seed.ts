// Loads a demo center with a few weeks of history: `npm run seed`. Goes through the same services
// as the API (so the demo obeys every rule), then backdates the enrolments to their groups' start
// so that past sessions have rosters. Prints a token for the demo's admin. Safe to run twice.
//
// On the embedded database, run it while the server is stopped (PGlite is single-process).
import "reflect-metadata";
import { and, eq, isNotNull } from "drizzle-orm";
import { Access } from "../auth/access.js";
import { mintToken } from "../auth/tokens.js";
import { loadViewer } from "../auth/viewer.js";
import { toGlobalId } from "../common/ids.js";
import type { Context } from "../common/context.js";
import { loadConfig } from "../config.js";
import { openDatabase, type Db } from "../db/client.js";
import { centers, enrollmentEvents, enrollments } from "../db/schema.js";
import { createLoaders } from "../loaders.js";
import { composeWriteSteps } from "../steps.js";
import { createCenter } from "../centers/center.service.js";
import { createStaff, ensureBootstrapAdmin } from "../staff/staff.service.js";
import { createProgram } from "../programs/program.service.js";
import { createGroup } from "../groups/group.service.js";
import { updateGroup } from "../scheduling/scheduling.service.js";
import { createParticipant } from "../participants/participant.service.js";
import { enrollParticipant } from "../enrollments/enrollment.service.js";
import { cancelSession, completeSession, scheduleSessions } from "../sessions/session.service.js";
import { recordAttendance } from "../attendance/attendance.service.js";
import { addDays, dayInZone } from "../sessions/timezone.js";
import { DayOfWeek } from "../groups/group.type.js";
import { StaffRole } from "../staff/staff.type.js";
import { AttendanceStatus } from "../attendance/attendance.type.js";

const DEMO_CENTER = "Riverside Recovery Center";
const TZ = "America/New_York";
const ORG_ADMIN = "org-admin@demo.example";
const CENTER_ADMIN = "admin@riverside.example";

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
  if (!viewer) throw new Error(`no staff with subject ${authSubject}`);
  return { requestId: "seed", viewer, access: new Access(viewer), db, loaders: createLoaders(db) };
}

const FIRST = ["Ava", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hector", "Imani", "Jon", "Kira", "Luis", "Maya", "Noah", "Olivia", "Pete", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zane", "Abby", "Brett", "Chloe", "Dmitri", "Esme", "Flynn"];
const LAST = ["Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Foster", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Lopez", "Morgan", "Nguyen", "Okafor", "Patel", "Quinn", "Reyes", "Singh", "Turner", "Usman", "Vega", "Walsh", "Xu", "Young", "Zimmer", "Abbott", "Byrne", "Cruz", "Dunn", "Ellis", "Ford"];

async function seed(db: Db): Promise<{ centerId: string; created: boolean }> {
  const [existing] = await db.select().from(centers).where(eq(centers.name, DEMO_CENTER));
  if (existing) return { centerId: existing.id, created: false };

  await ensureBootstrapAdmin(db, ORG_ADMIN);
  const org = await contextFor(db, ORG_ADMIN);
  const center = await createCenter(org, { name: DEMO_CENTER, timezone: TZ, address: "12 River Road, Springfield", phone: "+1 555 0100" });
  const centerGid = toGlobalId("Center", center.id);

  const staffIds: Record<string, string> = {};
  for (const [email, name, role] of [
    [CENTER_ADMIN, "Dana Whitfield", StaffRole.ADMIN],
    ["m.okoro@riverside.example", "Dr. Michael Okoro", StaffRole.CLINICIAN],
    ["s.lindqvist@riverside.example", "Sara Lindqvist, LCSW", StaffRole.CLINICIAN],
    ["j.romero@riverside.example", "Jamie Romero", StaffRole.FACILITATOR],
    ["p.achebe@riverside.example", "Priya Achebe", StaffRole.FACILITATOR],
    ["board@riverside.example", "Quality Board", StaffRole.VIEWER],
  ] as const) {
    const s = await createStaff(org, { email, name, memberships: [{ centerId: centerGid, role }] });
    staffIds[email] = toGlobalId("Staff", s.id);
  }
  const admin = await contextFor(db, CENTER_ADMIN);

  const relapse = await createProgram(admin, {
    centerId: centerGid,
    name: "Relapse Prevention",
    description: "Cognitive-behavioural skills for high-risk situations, cravings and early warning signs.",
    curriculum: ["Identifying triggers", "Coping with cravings", "Managing stress", "Building a support network", "Healthy routines", "Handling lapses", "Communication skills", "Relapse prevention plan"],
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

  const today = dayInZone(new Date(), TZ);
  const start = addDays(today, -28);
  const groupSpecs = [
    { program: relapse, name: "Relapse Prevention — Monday Evening", capacity: 12, days: [DayOfWeek.MONDAY, DayOfWeek.THURSDAY], time: "18:30", minutes: 90, facilitators: ["j.romero@riverside.example"], location: "Room 2B" },
    { program: relapse, name: "Relapse Prevention — Morning", capacity: 8, days: [DayOfWeek.WEDNESDAY], time: "10:00", minutes: 90, facilitators: ["p.achebe@riverside.example"], location: "Room 1A" },
    { program: family, name: "Family Circle", capacity: 10, days: [DayOfWeek.TUESDAY], time: "19:00", minutes: 75, facilitators: ["p.achebe@riverside.example", "j.romero@riverside.example"], location: "Community Hall" },
    { program: alumni, name: "Alumni Saturday", capacity: 6, days: [DayOfWeek.SATURDAY], time: "11:00", minutes: 60, facilitators: ["j.romero@riverside.example"], virtualLink: "https://meet.example.org/riverside-alumni" },
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
    const p = await createParticipant(admin, {
      centerId: centerGid,
      firstName: FIRST[i],
      lastName: LAST[i],
      externalId: `MRN-${String(10421 + i * 7)}`,
      dateOfBirth: `${1965 + Math.floor(rand() * 38)}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`,
      recoveryStartDate: addDays(today, -(20 + Math.floor(rand() * 700))),
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

  // Sessions for four weeks back and two ahead; one holiday cancellation; attendance for the past.
  const now = Date.now();
  for (const [gi, g] of groupRows.entries()) {
    const sessions = await scheduleSessions(admin, { groupId: toGlobalId("Group", g.id), from: start, to: addDays(today, 14) });
    const members = plan[gi][1].slice(0, g.capacity);
    for (const [si, s] of sessions.entries()) {
      if (gi === 2 && si === 1) {
        await cancelSession(admin, { sessionId: toGlobalId("Session", s.id), reason: "Facilitator out sick" });
        continue;
      }
      if (s.startsAt.getTime() > now) continue;
      const records = members.map((pi, mi) => {
        // A few people drift away: they stop coming in the last sessions.
        const slipping = (gi === 0 && (mi === 4 || mi === 9)) || (gi === 1 && mi === 3);
        const r = rand();
        let status: AttendanceStatus;
        if (slipping && si >= sessions.filter((x) => x.startsAt.getTime() <= now).length - 3) status = AttendanceStatus.ABSENT;
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
    }
  }
  return { centerId: center.id, created: true };
}

composeWriteSteps();
const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
try {
  const { centerId, created } = await seed(database.db);
  const token = config.auth.jwtSecret ? await mintToken(config.auth, CENTER_ADMIN, { expiresIn: "12h" }) : null;
  console.log(created ? `Seeded "${DEMO_CENTER}".` : `"${DEMO_CENTER}" is already there; nothing changed.`);
  console.log(`Center id: ${toGlobalId("Center", centerId)}`);
  console.log(`Center admin: ${CENTER_ADMIN}   Org admin: ${ORG_ADMIN}`);
  if (token) {
    console.log(`\nToken for ${CENTER_ADMIN} (12 h):\n${token}`);
  } else {
    console.log(`\nMint tokens with your identity provider for ${CENTER_ADMIN}.`);
  }
} finally {
  await database.close();
}
