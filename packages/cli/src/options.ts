// Helpers shared by the commands: option parsing with errors that name the flag, and shutdown.

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseNumberOption(
  value: string,
  flag: string,
  limits: { min: number; max: number; integer?: boolean },
): number {
  const parsed = Number(value);
  if (
    !Number.isFinite(parsed) ||
    parsed < limits.min ||
    parsed > limits.max ||
    (limits.integer && !Number.isInteger(parsed))
  ) {
    throw new UsageError(
      `${flag} must be ${limits.integer ? 'a whole number' : 'a number'} from ${limits.min} to ${limits.max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
