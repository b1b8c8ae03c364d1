// Every step that runs inside another module's write transaction, in the order it runs: the one
// place to read what a write sets off. The writer declares its list (a WriteSteps, src/common/steps.ts)
// and runs it; a module above the writer adds its step here, never in the writer, which must not
// import it. Rules a module above calls itself (e.g. scheduling's refits) are not steps: they are
// explicit at their call site.
import { attendanceWriteSteps, writeHistory } from "./attendance/attendance.service.js";
import {
  engagementAttendanceStep,
  engagementEnrollmentStep,
  engagementProgramStep,
  engagementSessionsAddedStep,
  engagementSessionStep,
} from "./engagement/engagement.service.js";
import { enrollmentEndSteps, enrollmentWriteSteps } from "./enrollments/enrollment.service.js";
import { feedStep } from "./feed/feed.service.js";
import { followUpStep } from "./followups/followup.service.js";
import { attendanceRosterStep, rosterChangedStep } from "./live/live.bus.js";
import { noteCorrectionStep } from "./notes/notes.service.js";
import { checkInWriteSteps } from "./checkin/checkin.service.js";
import { checkInStep, enrollmentEndStep, sessionChangeStep } from "./reminders/reminder.service.js";
import { programPolicySteps } from "./programs/program.service.js";
import { sessionsAddedSteps, sessionWriteSteps } from "./sessions/session.service.js";

let composed = false;

/** Adds every step to its write, then fixes the lists. Runs once, before the first write (createSchema, scripts). */
export function composeWriteSteps(): void {
  if (composed) return;
  composed = true;

  // recordAttendance, after the records are written:
  attendanceWriteSteps.add("attendance history", writeHistory);
  // a run of absences reaching the program's threshold opens a follow-up (src/followups):
  attendanceWriteSteps.add("follow-ups", followUpStep);
  // the change feed integrators pull (src/feed): one row per change, in the change's transaction:
  attendanceWriteSteps.add("attendance change feed", feedStep);
  // a change after the session's note was signed needs a reason, and is kept as a CORRECTION
  // addendum to the member's part; the member's service record is voided and reissued (src/notes):
  attendanceWriteSteps.add("session note corrections", noteCorrectionStep);
  // the kept engagement figures of the participants written are marked dirty (src/engagement):
  attendanceWriteSteps.add("engagement dirty marks", engagementAttendanceStep);
  // the live roster (src/live): one NOTIFY of the session and participants written, delivered at
  // commit to every instance's subscribers (ids only). Last, so it is sent only once all else held:
  attendanceWriteSteps.add("live roster", attendanceRosterStep);
  attendanceWriteSteps.seal();

  // a session cancelled (or its group closed) cancels its pending reminders; one moved re-plans them (src/reminders):
  sessionWriteSteps.add("reminders", sessionChangeStep);
  // ... and marks the kept engagement figures of its group's members dirty (src/engagement):
  sessionWriteSteps.add("engagement dirty marks", engagementSessionStep);
  sessionWriteSteps.seal();
  // sessions added to a group (a new instant to recheck at; a back-dated one counts at once) (src/engagement):
  sessionsAddedSteps.add("engagement dirty marks", engagementSessionsAddedStep);
  sessionsAddedSteps.seal();
  // an enrolment ended cancels the member's pending reminders of the group (src/reminders):
  enrollmentEndSteps.add("reminders", enrollmentEndStep);
  // ... and marks the member's kept engagement figures dirty (src/engagement):
  enrollmentEndSteps.add("engagement dirty marks", engagementEnrollmentStep);
  enrollmentEndSteps.seal();
  // an enrolment made or given a seat marks the member's kept engagement figures dirty (src/engagement):
  enrollmentWriteSteps.add("engagement dirty marks", engagementEnrollmentStep);
  enrollmentWriteSteps.seal();
  // a program's absences-before-follow-up changed: its members' risk is judged again (src/engagement):
  programPolicySteps.add("engagement dirty marks", engagementProgramStep);
  programPolicySteps.seal();
  // a member who checked in (or whose claim staff decided) needs no more reminders of the session (src/reminders):
  checkInWriteSteps.add("reminders", checkInStep);
  // the live roster (src/live): the claims' session and participants, to every instance's subscribers (ids only):
  checkInWriteSteps.add("live roster", rosterChangedStep);
  checkInWriteSteps.seal();
}
