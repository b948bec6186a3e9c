/**
 * The process-level safety net of a long-running Weir process: an error nobody listened for — a
 * stream's `error` event, a rejected promise nobody awaited — is logged with its stack and the
 * process keeps serving when it is an operating-system error (a file, socket or pipe error, which
 * concerns one request or run), instead of taking every in-flight request and run down with it.
 * Anything else is a bug of unknown reach: it is logged and the process exits (1), as Node would.
 */
export function installSafetyNet(
  log: { error: (m: string) => void; fatal: (m: string) => void },
  exit: (code: number) => void = (c) => process.exit(c),
): () => void {
  const handle = (kind: string) => (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as { code?: unknown }).code;
    const systemError = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
    if (systemError) {
      log.error(
        `an ${kind} ${code} was not handled where it happened (${err.message}); Weir keeps serving\n${err.stack ?? ''}`,
      );
      return;
    }
    log.fatal(`${kind}: ${err.stack ?? err.message}; exiting`);
    exit(1);
  };
  const onException = handle('uncaught error');
  const onRejection = handle('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
