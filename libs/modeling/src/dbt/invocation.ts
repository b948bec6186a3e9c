/**
 * Placeholder for the dbt engine's entry point (being written in parallel; replaced on merge).
 * The types are the engine's API; invokeDbt throws until the engine lands.
 */
export interface DbtTarget {
  name: string;
  schema: string;
  database: string;
  threads: number;
  type: 'postgres';
}

export interface DbtInvocationOptions {
  projectDir: string; // dbt runs "from" this folder; target/ is written here
  args: string[]; // dbt argv after `dbt`, e.g. ['run', '-m', 'swappable', '--vars', 'materialized_var: view']
  connectionString: string; // postgres URL of the database to use
  target: DbtTarget;
  env?: Record<string, string>; // what env_var() reads
  log?: (line: string) => void; // dbt-like console lines
  microbatchEndTime?: string; // 'YYYY-MM-DD HH:MM:SS' (TestMicrobatch's patch_microbatch_end_time)
}

export interface DbtNodeResult {
  unique_id: string;
  name: string;
  resource_type: string;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';
  message: string | null;
  execution_time: number;
  failures: number | null;
  adapter_response: Record<string, unknown>;
}

export interface DbtInvocationResult {
  success: boolean;
  results: DbtNodeResult[];
}

export async function invokeDbt(_opts: DbtInvocationOptions): Promise<DbtInvocationResult> {
  throw new Error('dbt engine not built yet');
}
