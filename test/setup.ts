import "reflect-metadata";
import { afterEach } from "vitest";
import { resetClock } from "../src/common/clock.js";

// A test that sets the clock never leaks its "now" into the next one.
afterEach(() => resetClock());
