// The demo's look at the JSON flag and its segment: one request to the sample app's /banner (through
// the proxy) as a beta tester and one as someone outside the segment.
import type { BannerAnswer } from "../app/banner";

export interface Person {
  label: string;
  headers: Record<string, string>;
}

/** In segment beta-testers by email (it ends with @example.com), and outside it. */
export const BETA_TESTER: Person = { label: "ana@example.com (a beta tester)", headers: { "x-aviary-user": "ana", "x-aviary-email": "ana@example.com" } };
export const OUTSIDER: Person = { label: "bob@elsewhere.org", headers: { "x-aviary-user": "bob", "x-aviary-email": "bob@elsewhere.org" } };

export async function bannerFor(proxyUrl: string, person: Person): Promise<BannerAnswer> {
  return (await (await fetch(`${proxyUrl}/banner`, { headers: person.headers })).json()) as BannerAnswer;
}

/** One transcript line: who asked, the variant (or the code default) with its reason, and the text. */
export function bannerLine(person: Person, answer: BannerAnswer): string {
  return `as ${person.label}: ${answer.variant ?? "code default"} (${answer.reason}) "${answer.banner.text}"`;
}
