// defineMethod: the one declaration a method folder's index.ts default-exports.
import type { z } from 'zod';
import { parseConfig, fieldSchemas } from './validate.ts';
import { METHOD_FAMILIES, type Method, type MethodSpec } from './types.ts';

const ID = /^[a-z][a-z0-9-]*$/;

export function defineMethod<S extends z.ZodObject>(spec: MethodSpec<S>): Method<S> {
  const where = `defineMethod('${spec.id}')`;
  if (!ID.test(spec.id)) throw new Error(`${where}: id must be lowercase letters, digits and '-', starting with a letter`);
  if (!METHOD_FAMILIES.includes(spec.family)) {
    throw new Error(`${where}: family '${spec.family}' is unknown; valid: ${METHOD_FAMILIES.join(', ')}`);
  }
  if (!spec.paper?.url?.startsWith('http')) throw new Error(`${where}: paper.url must be a link`);
  if (!spec.description?.trim()) throw new Error(`${where}: description is required (one paragraph for the site)`);
  const fields = fieldSchemas(spec.hyperparameters);
  for (const [name, f] of Object.entries(fields)) {
    if (f.default === undefined) throw new Error(`${where}: hyperparameter '${name}' has no default`);
    if (!f.description) throw new Error(`${where}: hyperparameter '${name}' has no description (.describe('...'))`);
  }
  if (spec.rankParam !== null && !(spec.rankParam in fields)) {
    throw new Error(`${where}: rankParam '${spec.rankParam}' is not a hyperparameter (have ${Object.keys(fields).join(', ')})`);
  }
  if ((spec.rankParam !== null) !== Boolean(spec.rankMeaning?.trim())) {
    throw new Error(`${where}: rankMeaning says what one unit of the rank is ('rank r', 'bottleneck size'); give it exactly when rankParam is set`);
  }
  if (!['merged', 'in-place', 'added'].includes(spec.atInference)) {
    throw new Error(`${where}: atInference must be 'merged', 'in-place' or 'added' (what the deployed model carries), got ${JSON.stringify(spec.atInference)}`);
  }
  if (spec.lrScale !== undefined && !(Number.isFinite(spec.lrScale) && spec.lrScale > 0)) {
    throw new Error(`${where}: lrScale must be a positive number (a multiple of the model's learning rate), got ${spec.lrScale}`);
  }
  const parse = (input: unknown) => parseConfig(spec.id, spec.hyperparameters, input);
  return {
    ...spec,
    kind: 'peft-bench-method',
    parse,
    isIdentityAtInit: (config) => (typeof spec.identityAtInit === 'function' ? spec.identityAtInit(config) : spec.identityAtInit),
    async attach(model, input, ctx) {
      const config = parse(input);
      const fam = model.config.family;
      if (spec.modelFamilies && !spec.modelFamilies.includes(fam)) {
        throw new Error(
          `method '${spec.id}' does not apply to ${fam} models${spec.unsupportedReason ? `: ${spec.unsupportedReason}` : ''}; ` +
            `it supports ${spec.modelFamilies.join(', ')}`,
        );
      }
      if (!Number.isInteger(ctx?.seed)) throw new Error(`method '${spec.id}': attach needs an integer ctx.seed, got ${ctx?.seed}`);
      return spec.attach(model, config, ctx);
    },
  };
}
