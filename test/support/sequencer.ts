// The order files start in. The slowest ones first: started last (vitest's default for a clean
// clone, which has no timings cached, is the largest file first), one of them keeps a single
// worker busy for the last minute while the other has nothing left to do.
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** The slowest files, slowest first (seconds on PGlite, 2 workers: the first about 70, the rest 15-30). */
const SLOW_FIRST = ["embedded", "exports-stream", "sessions", "server", "engagement", "fuzz", "admin", "access"].map((name) => `/test/${name}.test.ts`);

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((suffix) => spec.moduleId.endsWith(suffix));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({ spec }) => spec);
  }
}
