/** How `npm run conformance` (tools/conformance/run.ts) runs the suites in libs/<slice>/conformance. */
/** A conformance suite over one folder of ../shared/corpora. */
export interface ConformanceSuite {
  name: string;
  /** Folder under corpora/. */
  corpus: string;
  /** When set, the suite fails CI only below this share of passing tests (its failures are still listed). */
  minPassRatio?: number;
  run(dir: string, report: Reporter): Promise<void>;
}

export interface Reporter {
  pass(test: string): void;
  fail(test: string, why: string): void;
  skip(test: string, why: string): void;
}
