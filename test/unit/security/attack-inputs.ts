// Hostile inputs shared by the unit tests and the integration attack checklist
// (test/integration/api/attack-checklist.test.ts): each with what the refusal must say.

/** Dataset paths that must never be read: [path, what the refusal names]. */
export const TRAVERSALS: [string, RegExp][] = [
  ['../../etc/passwd', /outside the datasets root/],
  ['a/../../etc/passwd', /outside the datasets root/],
  ['..', /outside the datasets root/],
  ['%2e%2e%2fetc%2fpasswd', /percent-encoding/],
  ['..%2f..%2fetc%2fpasswd', /percent-encoding/],
  ['%252e%252e%252fetc%252fpasswd', /percent-encoding/],
  ['%c0%ae%c0%ae/etc/passwd', /percent-encoding/], // overlong UTF-8 dots
  ['/etc/passwd', /absolute/],
  ['//proc/self/root/etc/passwd', /absolute/],
  ['/proc/self/environ', /absolute/],
  ['..\\..\\etc\\passwd', /backslash/],
  ['data\\..\\..\\x.csv', /backslash/],
  ['C:\\Windows\\win.ini', /drive letter/],
  ['penguins.csv\0.png', /control characters/],
  ['penguins.csv\n', /control characters/],
  ['a//b.csv', /empty or '\.' parts/],
  ['./penguins.csv', /empty or '\.' parts/],
  ['http://169.254.169.254/latest/meta-data', /dataset URLs are not accepted/],
  ['https://example.com/data.csv', /dataset URLs are not accepted/],
  ['file:///etc/passwd', /dataset URLs are not accepted/],
  ['s3://bucket/data.csv', /dataset URLs are not accepted/],
];
