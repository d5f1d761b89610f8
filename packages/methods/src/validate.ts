// Readable validation errors for hyperparameters: method, field, value and what is allowed.
import { z } from 'zod';

interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: FieldSchema;
  anyOf?: FieldSchema[];
  default?: unknown;
  description?: string;
  const?: unknown;
}

/** JSON schema (zod 4) of each field of an object schema, input side (defaults included). */
export function fieldSchemas(schema: z.ZodObject): Record<string, FieldSchema> {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, FieldSchema> };
  return js.properties ?? {};
}

/** "integer in 1..1024", "one of 'a', 'b'", "boolean", "list of strings". */
export function describeAllowed(f: FieldSchema | undefined): string {
  if (!f) return 'see the method README';
  if (f.anyOf) return f.anyOf.map(describeAllowed).join(' or ');
  if (f.enum) return `one of ${f.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (f.const !== undefined) return JSON.stringify(f.const);
  const t = Array.isArray(f.type) ? f.type.join('|') : f.type;
  if (t === 'integer' || t === 'number') {
    const lo = f.minimum ?? (f.exclusiveMinimum !== undefined ? `>${f.exclusiveMinimum}` : undefined);
    const hi = f.maximum ?? (f.exclusiveMaximum !== undefined ? `<${f.exclusiveMaximum}` : undefined);
    const kind = t === 'integer' ? 'integer' : 'number';
    if (lo !== undefined && hi !== undefined) return typeof lo === 'number' && typeof hi === 'number' ? `${kind} in ${lo}..${hi}` : `${kind} ${lo}, ${hi}`;
    if (lo !== undefined) return typeof lo === 'number' ? `${kind} >= ${lo}` : `${kind} ${lo}`;
    if (hi !== undefined) return typeof hi === 'number' ? `${kind} <= ${hi}` : `${kind} ${hi}`;
    return kind;
  }
  if (t === 'array') return `list of ${f.items ? describeAllowed(f.items) : 'values'}`;
  if (t === 'string') return 'string';
  if (t === 'boolean') return 'true or false';
  if (t === 'null') return 'null';
  return t ?? 'any value';
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const k of path) v = v != null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Parses a config, or throws one message listing every bad field. */
export function parseConfig<S extends z.ZodObject>(methodId: string, schema: S, input: unknown): z.infer<S> {
  if (input != null && (typeof input !== 'object' || Array.isArray(input))) {
    throw new Error(`method '${methodId}': hyperparameters must be an object of field -> value, got ${JSON.stringify(input)}`);
  }
  const result = schema.strict().safeParse(input ?? {});
  if (result.success) return result.data as z.infer<S>;
  const fields = fieldSchemas(schema);
  const names = Object.keys(fields);
  const lines = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown hyperparameter ${issue.keys.map((k) => `'${k}'`).join(', ')}; valid fields are ${names.join(', ')}`;
    }
    const field = issue.path.map(String).join('.');
    const top = String(issue.path[0] ?? '');
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? ` (default ${JSON.stringify(fields[top]?.default)})` : `=${JSON.stringify(value)}`;
    return `${field}${shown} is invalid (${issue.message}); allowed: ${describeAllowed(fields[top])}`;
  });
  throw new Error(`method '${methodId}': ${lines.join('; ')}`);
}
