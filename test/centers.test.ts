import { describe, expect, it } from "vitest";
import { asOrgAdmin } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const CREATE = `mutation($input: CreateCenterInput!) {
  createCenter(input: $input) { center { id name timezone } userErrors { field message code } }
}`;

describe("centers", () => {
  it("lets an org admin create a center with a canonical IANA time zone", async () => {
    const admin = await asOrgAdmin(t.server);
    const res = await t.server.gql(CREATE, { input: { name: "  North  ", timezone: "america/new_york" } }, { token: admin.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.createCenter.userErrors).toEqual([]);
    expect(res.data.createCenter.center).toMatchObject({ name: "North", timezone: "America/New_York" });
  });

  it("refuses an unknown time zone and a blank name, writing nothing", async () => {
    const admin = await asOrgAdmin(t.server);
    const res = await t.server.gql(CREATE, { input: { name: " ", timezone: "Mars/Olympus" } }, { token: admin.token });
    expect(res.data.createCenter.center).toBeNull();
    expect(res.data.createCenter.userErrors).toEqual([
      { field: ["input", "name"], message: "name is required", code: "REQUIRED" },
      { field: ["input", "timezone"], message: '"Mars/Olympus" is not an IANA time zone', code: "INVALID_TIMEZONE" },
    ]);
    const list = await admin.query(`{ centers(first: 10) { totalCount } }`);
    expect(list.centers.totalCount).toBe(0);
  });

  it("answers UNAUTHENTICATED without a token and with a forged one", async () => {
    const none = await t.server.gql(`{ viewer { id } }`);
    expect(none.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    const forged = await t.server.gql(`{ viewer { id } }`, {}, { token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad" });
    expect(forged.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses center creation to staff who are not org admins (FORBIDDEN)", async () => {
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter();
    const clinician = await admin.createStaff("clin@org.test", [{ centerId, role: "ADMIN" }]);
    const res = await t.server.gql(CREATE, { input: { name: "X", timezone: "UTC" } }, { token: clinician.token });
    expect(res.errors?.[0].extensions?.code).toBe("FORBIDDEN");
  });
});
