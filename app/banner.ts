// The sample app's banner: a JSON flag read through OpenFeature's getObjectValue. Pure: the code's
// own default (what every request gets when flags are unavailable), the shape a served value must
// have to be used, and the evaluation context a request carries.
import type { EvaluationContext, JsonValue } from "@openfeature/server-sdk";

export interface Banner {
  text: string;
  /** #rrggbb */
  color: string;
}

/** What GET /banner answers. */
export interface BannerAnswer {
  banner: Banner;
  /** The flag's variant served; null when the code's default is. */
  variant: string | null;
  /** The OpenFeature reason, or "no flags" when the app runs without Redis. */
  reason: string;
  errorCode?: string;
}

export const BANNER_FLAG = "banner";

/** What the page shows without flags (no Redis, flag missing or killed, or a value of the wrong shape). */
export const DEFAULT_BANNER: Banner = { text: "Welcome to Aviary", color: "#2563eb" };

const COLOR = /^#[0-9a-fA-F]{6}$/;

/** The served value as a banner, or undefined when it is not `{text: string (1-200), color: "#rrggbb"}`. */
export function bannerOf(value: JsonValue): Banner | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { text, color } = value;
  if (typeof text !== "string" || text.length === 0 || text.length > 200) return undefined;
  if (typeof color !== "string" || !COLOR.test(color)) return undefined;
  return { text, color };
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** The user is the x-aviary-user header (or ?user=); x-aviary-email and x-aviary-plan are attributes rules can test. */
export function requestContext(headers: Headers, url: URL, base: EvaluationContext): EvaluationContext {
  const user = header(headers, "x-aviary-user") ?? (url.searchParams.get("user") || undefined);
  const email = header(headers, "x-aviary-email");
  const plan = header(headers, "x-aviary-plan");
  return {
    ...base,
    ...(user === undefined ? {} : { targetingKey: user }),
    ...(email === undefined ? {} : { email }),
    ...(plan === undefined ? {} : { plan }),
  };
}
