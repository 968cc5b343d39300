// The one-line plain text SMS subscribers get from the controller. SNS sends an SMS in 140-byte
// segments: 160 GSM-7 characters, 140 ASCII characters or 70 UCS-2 characters each, and splits a
// longer message into several billed SMS (sms_publish-to-phone.html, PublishCommand Message). A
// line of at most 140 characters from the GSM-7 basic set therefore always fits one segment.
export const SMS_MAX_CHARS = 140;

// ASCII printable characters outside the GSM-7 basic set (backtick) or in its extension table
// (two septets each: [ ] { } \ ^ ~ |), replaced so that no character costs more than one.
const REPLACEMENTS: Record<string, string> = { "[": "(", "]": ")", "{": "(", "}": ")", "\\": "/", "^": "'", "~": "-", "|": "/", "`": "'" };

/** Printable GSM-7 basic characters only, whitespace collapsed, cut to SMS_MAX_CHARS ("..." marks a cut). */
export function smsLine(text: string): string {
  const clean = text
    .replace(/[[\]{}\\^~|`]/g, (c) => REPLACEMENTS[c])
    .replace(/[^\x20-\x7e]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return clean.length <= SMS_MAX_CHARS ? clean : `${clean.slice(0, SMS_MAX_CHARS - 3).trimEnd()}...`;
}

/** What an alarm transition led to, e.g. "Aviary aviary-prod-prod-cpu-high ALARM: scale out 3 -> 4". */
export function alarmSms(alarmName: string, newState: string, decision: string): string {
  return smsLine(`Aviary ${alarmName} ${newState}: ${decision}`);
}

/** A configuration change, e.g. "Aviary: canary weight set to 25 and enabled". */
export function configSms(decision: string): string {
  return smsLine(`Aviary: ${decision}`);
}
