/**
 * Looks for known secrets in text a server wrote or answered: each secret as written, base64 (as a
 * Basic or Proxy-Authorization header would carry `user:password`, or the secret alone), percent-
 * encoded and hex, so that a leak in another encoding is found too.
 */
export interface Secret {
  /** What the secret is (the config key), for the failure message. */
  readonly name: string;
  readonly value: string;
  /** The user name for `user:password` forms (Basic, proxy). */
  readonly user?: string;
}

/** Every form of `secret` a leak could take. */
export function leakForms(secret: Secret): string[] {
  const forms = [secret.value, encodeURIComponent(secret.value), Buffer.from(secret.value).toString('base64'), Buffer.from(secret.value).toString('hex')];
  if (secret.user !== undefined) forms.push(Buffer.from(`${secret.user}:${secret.value}`).toString('base64'));
  return [...new Set(forms)];
}

export interface Leak {
  readonly secret: string;
  readonly where: string;
  /** Up to 120 characters around the find. */
  readonly context: string;
}

/** The leaks of `secrets` in each named text (`where` → text). */
export function findLeaks(secrets: readonly Secret[], texts: ReadonlyMap<string, string>): Leak[] {
  const leaks: Leak[] = [];
  for (const [where, text] of texts) {
    for (const secret of secrets) {
      for (const form of leakForms(secret)) {
        const at = text.indexOf(form);
        if (at >= 0) leaks.push({ secret: secret.name, where, context: text.slice(Math.max(0, at - 60), at + form.length + 60) });
      }
    }
  }
  return leaks;
}

/** A text collector: everything a test saw, by where it came from. */
export class Transcript {
  readonly texts = new Map<string, string>();
  private n = 0;

  add(where: string, text: string): string {
    this.texts.set(`${++this.n} ${where}`, text);
    return text;
  }

  /** Total characters collected. */
  get size(): number {
    let total = 0;
    for (const text of this.texts.values()) total += text.length;
    return total;
  }
}
