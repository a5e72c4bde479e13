/** The built-in example: three carriers of three technologies behind one failover route, as VICIdial hands numbers (91NXXNXXXXXX). */
export const EXAMPLE_CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', peer: 'carrier-primary', ringTimeout: 60, progressTimeout: 5, dialOptions: 'T' },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', peer: 'carrier-b', retrySipCodes: [480] },
  { name: 'tertiary', dial: 'IAX2/carrier-c/${number}', peer: 'carrier-c' },
];

export const EXAMPLE_ROUTES = [
  { name: 'outbound-failover', strategy: 'failover', carriers: ['primary', 'secondary', 'tertiary'], maxAttempts: 3, stripDigits: 1, whenAllDown: 'try' },
];
