/**
 * How `startup-factory task run` ends, the contract between the runner and its Job's
 * podFailurePolicy: a transient failure lets the Job try another pod, every other
 * failure ends the Job at once (retrying cannot help, or the attempt must stop).
 */
export const ExitCode = {
  Succeeded: 0,
  /** Upstream trouble that may pass (429, 5xx, timeouts, resets) outlasted the retries. */
  Transient: 1,
  /** The runner was started wrong (no gateway URL or token): a bug in the Job, not in the task. */
  Usage: 2,
  /** 401, 403, 400, a refusal, or output that stays invalid: the task fails with a typed reason. */
  Permanent: 3,
  /** A budget ran out: the attempt stops cleanly and the task waits for the window to reset. */
  BudgetExceeded: 4,
  /** The gateway no longer accepts this attempt's token (it finished or was replaced). */
  Revoked: 5,
} as const;

export const JOB_ENDING_EXIT_CODES: readonly number[] = [ExitCode.Usage, ExitCode.Permanent, ExitCode.BudgetExceeded, ExitCode.Revoked];
