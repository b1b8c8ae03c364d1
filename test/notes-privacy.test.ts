// Privacy of members' charts as a property, over real HTTP: random rosters (names with accents,
// shared first names, substrings of ordinary words) and random notes whose texts mention members
// (any case, accents dropped or not, possessives). Whatever is saved and signed, no chart entry of
// any member contains another member's name (as a whole word, by an oracle written apart from the
// service's rule) or anything of another member's part.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { setClock } from "../src/common/clock.js";
import { asOrgAdmin, type Api } from "./support/fixtures.js";
import { recordAttendance, send } from "./support/notes.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

const FIRST = ["Sam", "José", "Ana", "Lee", "Zoë", "Max", "Ada"];
const LAST = ["Rivera", "Núñez", "Li", "Okafor", "Berg", "Åberg"];
const WORDS = ["group", "coping", "plan", "samantha", "analysis", "leeway", "maxim", "adamant", "trigger", "walk", "calm", "sponsor", "the", "and"];

/** The oracle: whole words, accents dropped, lower case, possessive dropped. */
const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/’/g, "'");
const wordsOf = (s: string) =>
  new Set(
    fold(s)
      .split(/[^\p{L}\p{N}']+/u)
      .filter(Boolean)
      .map((w) => w.replace(/'s$/, "")),
  );

/** A name as someone might type it: any case, accents kept or not, maybe a possessive. */
const mention = (name: string) =>
  fc.tuple(fc.constantFrom("same", "upper", "lower", "plain"), fc.boolean()).map(([form, possessive]) => {
    const base =
      form === "upper" ? name.toUpperCase() : form === "lower" ? name.toLowerCase() : form === "plain" ? name.normalize("NFD").replace(/\p{M}/gu, "") : name;
    return possessive ? `${base}'s` : base;
  });

const rosterArb = fc.array(fc.record({ first: fc.constantFrom(...FIRST), last: fc.constantFrom(...LAST) }), { minLength: 2, maxLength: 4 });

/** A text of ordinary words and, sometimes, mentions of roster names. */
const textArb = (names: string[]) =>
  fc
    .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...WORDS) }, { weight: 1, arbitrary: fc.constantFrom(...names).chain(mention) }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((ws) => ws.join(" "));

let run = 0;

async function rosterSession(org: Api, centerId: string, programId: string, roster: Array<{ first: string; last: string }>) {
  run++;
  setClock("2026-01-02T15:00:00Z");
  const { group } = await org.mutate(
    "createGroup",
    {
      programId,
      name: `Group ${run}`,
      capacity: 20,
      startsOn: "2026-01-05",
      status: "ACTIVE",
      facilitatorIds: [],
      schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
    },
    "group { id }",
  );
  const ids: string[] = [];
  for (const [i, p] of roster.entries()) {
    const { participant } = await org.mutate(
      "createParticipant",
      { centerId, firstName: p.first, lastName: p.last, externalId: `R${run}-${i}` },
      "participant { id }",
    );
    await org.mutate("enrollParticipant", { groupId: group.id, participantId: participant.id }, "enrollment { id }");
    ids.push(participant.id as string);
  }
  const { sessions } = await org.mutate("scheduleSessions", { groupId: group.id, from: "2026-01-05", to: "2026-01-07" }, "sessions { id }");
  setClock("2026-01-07T15:00:00Z");
  await recordAttendance(
    t.server,
    org.token,
    sessions[0].id,
    ids.map((participantId) => ({ participantId, status: "PRESENT" })),
  );
  return { sessionId: sessions[0].id as string, ids };
}

describe("members' charts, as a property", () => {
  it("never show another member's name or part, whatever notes are written over whatever roster", async () => {
    const org = await asOrgAdmin(t.server);
    const centerId = await org.createCenter("Property House", "America/New_York");
    const { program } = await org.mutate("createProgram", { centerId, name: "Groups", billingCode: "90853" }, "program { id }");
    await fc.assert(
      fc.asyncProperty(
        rosterArb.chain((roster) => {
          const names = roster.flatMap((p) => [p.first, p.last]);
          return fc.record({
            roster: fc.constant(roster),
            summary: textArb(names),
            parts: fc.array(textArb(names), { minLength: roster.length, maxLength: roster.length }),
          });
        }),
        async ({ roster, summary, parts }) => {
          const { sessionId, ids } = await rosterSession(org, centerId, program.id, roster);
          const marker = (i: number) => `PARTMARK${run}X${i}`;
          const others = (i: number) => new Set(roster.filter((_, k) => k !== i).flatMap((p) => [fold(p.first), fold(p.last)]));
          // Save as written; a refusal must be justified by the oracle, then the names are taken out
          let texts = { summary, parts: parts.map((p, i) => `${marker(i)} ${p}`) };
          const input = () => ({
            sessionId,
            groupSummary: texts.summary,
            members: ids.map((participantId, i) => ({ participantId, participation: "ACTIVE", progress: texts.parts[i] })),
          });
          let res = await send(t.server, "SaveSessionNote", { input: input() }, org.token);
          const errors = res.data.saveSessionNote.userErrors as Array<{ field: string[]; code: string }>;
          if (errors.length) {
            for (const e of errors) {
              expect(e.code).toBe("NAMES_OTHER_MEMBER");
              const field = e.field.join(".");
              if (field === "input.groupSummary") {
                const all = new Set(roster.flatMap((p) => [fold(p.first), fold(p.last)]));
                expect(
                  [...wordsOf(texts.summary)].some((w) => all.has(w)),
                  field,
                ).toBe(true);
              } else {
                const i = Number(e.field[2]);
                expect(
                  [...wordsOf(texts.parts[i])].some((w) => others(i).has(w)),
                  field,
                ).toBe(true);
              }
            }
            const strip = (s: string, banned: Set<string>) =>
              s
                .split(" ")
                .filter((w) => !banned.has(fold(w).replace(/'s$/, "")))
                .join(" ") || "calm";
            const all = new Set(roster.flatMap((p) => [fold(p.first), fold(p.last)]));
            texts = { summary: strip(texts.summary, all), parts: texts.parts.map((p, i) => strip(p, others(i))) };
            res = await send(t.server, "SaveSessionNote", { input: input() }, org.token);
            expect(res.data.saveSessionNote.userErrors).toEqual([]);
          }
          const note = res.data.saveSessionNote.note;
          const signed = await send(t.server, "SignSessionNote", { input: { noteId: note.id, version: note.version } }, org.token);
          expect(signed.data.signSessionNote.userErrors).toEqual([]);
          for (const [i, id] of ids.entries()) {
            const chart = await send(t.server, "ParticipantChart", { participantId: id }, org.token);
            expect(chart.errors).toBeUndefined();
            const entries = chart.data.node.chartNotes.nodes;
            expect(entries).toHaveLength(1);
            const text = JSON.stringify(entries[0]);
            expect(text).toContain(marker(i));
            for (const k of ids.keys()) if (k !== i) expect(text).not.toContain(marker(k));
            const leaked = [...wordsOf(`${entries[0].groupSummary ?? ""} ${entries[0].progress ?? ""}`)].filter((w) => others(i).has(w));
            expect(leaked).toEqual([]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 300_000);
});
