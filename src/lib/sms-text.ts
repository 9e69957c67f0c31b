/** Fits `text` into `room` characters, ending with an ellipsis when cut. */
// '...' rather than '…': the ellipsis is not in the GSM-7 alphabet and would make the SMS UCS-2 (70 a segment).
const clip = (text: string, room: number) =>
  text.length <= room ? text : room < 4 ? '' : `${text.slice(0, room - 3).trimEnd()}...`;

/** One 160-character GSM-7 SMS segment. */
export const SMS_SEGMENT = 160;

/**
 * One SMS segment where it can be: the link and the instruction (how to reply) are kept whole, the
 * description is shortened. Past one segment only when the instruction and link alone do not fit.
 */
export function smsText(description: string, link: string, instruction?: string): string {
  const tail = instruction ? ` ${instruction} ${link}` : ` ${link}`;
  return `${clip(description, Math.max(0, SMS_SEGMENT - tail.length))}${tail}`.trimStart();
}
