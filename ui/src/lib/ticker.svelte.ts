// A clock for components that show time running: `now` moves on after
// `delay(now)` milliseconds, each time anew, so a list of tokens a day away
// redraws twice a minute and one about to expire every second.

/** Call while a component initialises; the timer stops when it is destroyed. */
export function ticker(delay: (now: number) => number): { readonly now: number } {
  let now = $state(Date.now());
  $effect(() => {
    const timer = setTimeout(() => (now = Date.now()), delay(now));
    return () => clearTimeout(timer);
  });
  return {
    get now() {
      return now;
    },
  };
}
