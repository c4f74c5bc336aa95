// How long a training step takes: the window behind the ETA and img/s, and the steady-state average that a --minutes
// budget is fitted with.

/** Steps of a process left out of the budget's average (the first steps include one-time compilation). */
const SKIP_TIMING_STEPS = 2;
/** Steps the ETA and img/s average over. */
const WINDOW = 20;

export class StepClock {
  private readonly window: number[] = [];
  private warmupDropped = false;
  private timedSteps = 0;
  private timedSeconds = 0;

  /** Record the step that made the run reach `step`, which took `seconds`. */
  record(seconds: number, step: number): void {
    this.window.push(seconds);
    // The first step of a process pays for compilation (3.5 steps' time for the tiny spec on wasm): it leaves the window
    // once a later step is measured, else it would inflate the ETA and deflate img/s for 20 steps.
    if (!this.warmupDropped && this.window.length === 2) {
      this.window.shift();
      this.warmupDropped = true;
    }
    if (this.window.length > WINDOW) this.window.shift();
    if (this.window.length > SKIP_TIMING_STEPS || step > SKIP_TIMING_STEPS) {
      this.timedSteps++;
      this.timedSeconds += seconds;
    }
  }

  /** Seconds a step, over the recent window. */
  get secPerStep(): number {
    return this.window.reduce((a, b) => a + b, 0) / this.window.length;
  }

  /** Whether the window is long enough for an ETA. */
  get settled(): boolean {
    return this.window.length >= 3;
  }

  /** Steps past compilation that were timed, and their average (what a budget is fitted with). */
  get steady(): { steps: number; secPerStep: number } {
    return { steps: this.timedSteps, secPerStep: this.timedSeconds / this.timedSteps };
  }
}
