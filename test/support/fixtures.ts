// Builds test worlds through the real API (org admin token), so fixtures obey the same rules
// as users do. Each helper throws when the API returns errors, so a broken fixture is loud.
import { ensureBootstrapAdmin } from "../../src/staff/staff.service.js";
import type { TestServer } from "./server.js";

export const ADMIN_EMAIL = "root@org.test";

/** `mutation($input: <Field>Input!) { <field>(input: $input) { <selection> userErrors { … } } }` */
export function mutationDocument(field: string, selection: string): string {
  const type = `${field[0].toUpperCase()}${field.slice(1)}Input`;
  return `mutation($input: ${type}!) { ${field}(input: $input) { ${selection} userErrors { field message code } } }`;
}

/** Sends `<field>(input:)` and returns the whole response (GraphQL errors included) and its payload. */
export async function sendMutation(server: TestServer, token: string | null, field: string, input: Record<string, unknown>, selection = "__typename") {
  const res = await server.gql(mutationDocument(field, selection), { input }, { token });
  return { ...res, payload: res.data?.[field] ?? null };
}

export class Api {
  constructor(
    readonly server: TestServer,
    readonly token: string,
  ) {}

  /** Runs a mutation and returns its payload's object, failing on any error or userError. */
  async mutate<T = any>(field: string, input: Record<string, unknown>, selection: string): Promise<T> {
    const res = await this.server.gql(mutationDocument(field, selection), { input }, { token: this.token });
    if (res.errors?.length) throw new Error(`${field}: ${JSON.stringify(res.errors)}`);
    const payload = res.data[field];
    if (payload.userErrors.length) throw new Error(`${field}: ${JSON.stringify(payload.userErrors)}`);
    return payload;
  }

  async query<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await this.server.gql(query, variables, { token: this.token });
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data;
  }

  async createCenter(name = "North Clinic", timezone = "America/New_York"): Promise<string> {
    const p = await this.mutate("createCenter", { name, timezone }, "center { id }");
    return p.center.id;
  }

  /** Creates a staff member with the given roles; returns their id and a signed token. */
  async createStaff(
    email: string,
    memberships: Array<{ centerId: string; role: string }>,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; token: string; email: string }> {
    const p = await this.mutate("createStaff", { email, name: email.split("@")[0], memberships, ...extra }, "staff { id }");
    return { id: p.staff.id, token: await this.server.token(email.toLowerCase()), email };
  }
}

/** The org admin (created as BOOTSTRAP_ADMIN_EMAIL would) and an Api acting as them. */
export async function asOrgAdmin(server: TestServer): Promise<Api> {
  await ensureBootstrapAdmin(server.database.db, ADMIN_EMAIL);
  return new Api(server, await server.token(ADMIN_EMAIL));
}
