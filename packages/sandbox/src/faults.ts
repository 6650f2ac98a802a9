// Fault injection: rules that make an endpoint fail, or a notify misbehave, by count or probability.
import type { Random } from './random.js';
import { ok, type Result, refuse } from './result.js';

export const ENDPOINT_FAULTS = ['systemerror', 'systemerror_after_commit', 'timeout', 'http_500'] as const;
export const NOTIFY_FAULTS = [
  'drop_notify',
  'duplicate_notify',
  'delay_notify',
  'bad_signature_notify',
] as const;
export type EndpointFault = (typeof ENDPOINT_FAULTS)[number];
export type NotifyFault = (typeof NOTIFY_FAULTS)[number];
export type FaultKind = EndpointFault | NotifyFault;

export interface FaultRule {
  id: number;
  /** An endpoint name (`refund`), its path (`/secapi/pay/refund`), `payment_notify`, `refund_notify`, `notify` or `*`. */
  endpoint: string;
  kind: FaultKind;
  /** Fires on each matching call with this probability (seeded). */
  probability?: number;
  /** Fires on the next `count` matching calls, then retires. */
  count?: number;
  /** delay_notify: how long the first attempt is held back, simulated seconds (default 60). */
  delaySeconds?: number;
  /** timeout: how long the connection is held before it is cut, real ms (default 5000). */
  holdMs?: number;
}

export type FaultInput = Omit<FaultRule, 'id'>;

const KINDS: ReadonlySet<string> = new Set([...ENDPOINT_FAULTS, ...NOTIFY_FAULTS]);

/** Checks a rule from the control API. Without probability or count a rule fires once. */
export function parseFault(input: unknown): Result<FaultInput> {
  if (typeof input !== 'object' || input === null) return refuse('PARAM_ERROR', 'a fault is a JSON object');
  const body = input as Record<string, unknown>;
  const { endpoint, kind, probability, count, delaySeconds, holdMs } = body;
  if (typeof endpoint !== 'string' || endpoint === '') return refuse('PARAM_ERROR', 'endpoint is required');
  if (typeof kind !== 'string' || !KINDS.has(kind)) {
    return refuse('PARAM_ERROR', `kind must be one of ${[...KINDS].join(', ')}`);
  }
  if (
    probability !== undefined &&
    (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))
  ) {
    return refuse('PARAM_ERROR', 'probability must be a number in [0, 1]');
  }
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1)) {
    return refuse('PARAM_ERROR', 'count must be a whole number ≥ 1');
  }
  for (const [name, value] of [
    ['delaySeconds', delaySeconds],
    ['holdMs', holdMs],
  ] as const) {
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      return refuse('PARAM_ERROR', `${name} must be a number ≥ 0`);
    }
  }
  const rule: FaultInput = { endpoint, kind: kind as FaultKind };
  if (probability !== undefined) rule.probability = probability as number;
  else rule.count = (count as number | undefined) ?? 1;
  if (delaySeconds !== undefined) rule.delaySeconds = delaySeconds as number;
  if (holdMs !== undefined) rule.holdMs = holdMs as number;
  return ok(rule);
}

export class Faults {
  #rules: FaultRule[] = [];
  #nextId = 1;
  readonly #random: Random;

  constructor(random: Random) {
    this.#random = random;
  }

  add(rule: FaultInput): FaultRule {
    const stored = { ...rule, id: this.#nextId++ };
    this.#rules.push(stored);
    return stored;
  }

  clear(): void {
    this.#rules = [];
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  /**
   * The first rule of one of `kinds` matching any of `names` that fires now. A counted rule is used
   * up by firing.
   */
  take(names: readonly string[], kinds: readonly FaultKind[]): FaultRule | undefined {
    for (const rule of this.#rules) {
      if (!kinds.includes(rule.kind)) continue;
      if (rule.endpoint !== '*' && !names.includes(rule.endpoint)) continue;
      if (rule.count !== undefined) {
        rule.count -= 1;
        if (rule.count <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
        return { ...rule };
      }
      if (this.#random.next() < (rule.probability ?? 1)) return { ...rule };
    }
    return undefined;
  }
}
