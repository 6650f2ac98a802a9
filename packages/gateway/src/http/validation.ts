// Schema compilers: request bodies are validated strictly (no type coercion: `amount: true` is not 1 fen) and
// may hold no text that XML cannot carry; query strings and path parameters are text, so they are coerced.
import { uncarriableCharacter } from '@wxpay/sdk';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import * as formats from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';

// ajv-formats is CommonJS; where its function sits differs between loaders.
const loaded = formats as unknown as { default?: { default?: unknown } | unknown };
const addFormats = ((loaded.default as { default?: unknown } | undefined)?.default ??
  loaded.default ??
  formats) as formats.FormatsPlugin;

function compilerOf(options: Options): Ajv {
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

// Text XML 1.0 cannot carry, as the SDK's buildXml refuses it (tab, line feed and carriage return are allowed).
const RULE =
  'text may not hold control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF ' +
  'or unpaired surrogates: WeChat’s XML cannot carry them';

/** An issue in ajv's shape, so that the error handler names the field as it does for schema errors. */
function textIssue(path: readonly (string | number)[], message: string): FastifySchemaValidationError {
  const pointer = path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  return { keyword: 'text', instancePath: pointer, schemaPath: '#', params: {}, message };
}

/**
 * The first string or object key in a parsed body that XML cannot carry, as an issue naming its path. The path
 * is kept as a stack and joined only on a hit, so that a clean body costs one test per string.
 */
function unsendableText(
  value: unknown,
  path: (string | number)[] = [],
): FastifySchemaValidationError | undefined {
  if (typeof value === 'string') {
    const where = uncarriableCharacter(value);
    return where ? textIssue(path, `${where}; ${RULE}`) : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const found = unsendableText(value[i], path);
      path.pop();
      if (found) return found;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined; // a Buffer or a stream: not parsed text
  const record = value as Record<string, unknown>;
  for (const key in record) {
    path.push(key);
    const inKey = uncarriableCharacter(key);
    const found = inKey ? textIssue(path, `the key's ${inKey}; ${RULE}`) : unsendableText(record[key], path);
    path.pop();
    if (found) return found;
  }
  return undefined;
}

/**
 * A body validator that, once the schema passes, refuses text XML cannot carry anywhere in the body, so that
 * such text is never stored and never reaches the SDK, where it could only fail after a row was written.
 */
function refusingUnsendableText(validate: ValidateFunction) {
  const checked = Object.assign(
    (data: unknown, dataCxt?: Parameters<ValidateFunction>[1]): boolean => {
      if (!validate(data, dataCxt)) {
        checked.errors = validate.errors;
        return false;
      }
      const issue = unsendableText(data);
      checked.errors = issue ? [issue] : null;
      return issue === undefined;
    },
    // Fastify gives ajv validators (known by schemaEnv) the parent object, so that a root value can be replaced.
    { errors: null as FastifySchemaValidationError[] | null | undefined, schemaEnv: validate.schemaEnv },
  );
  return checked;
}

export function installValidation(app: FastifyInstance): void {
  const strict = compilerOf({ coerceTypes: false });
  const coercing = compilerOf({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? refusingUnsendableText(strict.compile(schema)) : coercing.compile(schema),
  );
  // A POST without a body is an empty object, so that optional bodies validate.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });
}
