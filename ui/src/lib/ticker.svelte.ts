// A clock for components that show time running: `now` moves on after
// `delay(now)` milliseconds, each time anew, so a list of tokens a day away
// redraws twice a minute and one about to expire every second. A `null` delay
// (nothing shown changes with time) sets no timer: an idle window with
// nothing to count down is never woken.

/** Call while a component initialises; the timer stops when it is destroyed. */
export function ticker(delay: (now: number) => number | null): { readonly now: number } {
  let now = $state(Date.now());
  $effect(() => {
    const ms = delay(now);
    if (ms === null) return;
    const timer = setTimeout(() => (now = Date.now()), ms);
    return () => clearTimeout(timer);
  });
  return {
    get now() {
      return now;
    },
  };
}
