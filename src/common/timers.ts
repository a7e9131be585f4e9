/** Node fires a timer past 2^31-1 ms (~24.8 days) at once (TimeoutOverflowWarning): no timer may be longer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
