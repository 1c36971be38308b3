/**
 * Calendar arithmetic in an IANA time zone with nothing but `Intl` (no tz database of our own): the
 * zone's UTC offset at an instant is read from `Intl.DateTimeFormat`, cached per UTC hour (offsets of
 * every current zone change only on whole hours or quarter hours, and only at DST or rule changes).
 */
export type Granularity = 'DAY' | 'MONTH' | 'YEAR';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY_MS = 24 * HOUR;
/** Sales are summed into 15-minute UTC slots: every zone's offset today is a multiple of 15 minutes. */
export const SLOT_MS = 15 * MINUTE;
export const SLOTS_PER_DAY = DAY_MS / SLOT_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** True for an IANA zone name this runtime knows (e.g. `Asia/Shanghai`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    formatterOf(zone);
    return true;
  } catch {
    return false;
  }
}

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(zone, formatter);
  }
  return formatter;
}

const offsetCache = new Map<string, number>();

/** The zone's offset from UTC in ms at `instant` (e.g. +8 h for Asia/Shanghai). */
export function offsetAt(zone: string, instant: number): number {
  const hourStart = Math.floor(instant / HOUR) * HOUR;
  const key = `${zone}|${hourStart}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const parts: Record<string, number> = {};
    for (const part of formatterOf(zone).formatToParts(new Date(hourStart))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    offset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!) - hourStart;
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  return offset;
}

/** The local calendar period (`2026-11-22`, `2026-11`, `2026`) that contains `instant` in `zone`. */
export function periodOf(instant: number, zone: string, granularity: Granularity): string {
  const local = new Date(instant + offsetAt(zone, instant));
  const y = String(local.getUTCFullYear()).padStart(4, '0');
  if (granularity === 'YEAR') return y;
  const m = String(local.getUTCMonth() + 1).padStart(2, '0');
  if (granularity === 'MONTH') return `${y}-${m}`;
  return `${y}-${m}-${String(local.getUTCDate()).padStart(2, '0')}`;
}

/** The instant local midnight of `date` (YYYY-MM-DD) begins in `zone`. */
export function startOfLocalDay(date: string, zone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  // Two passes: the offset guessed at the wall-clock instant, then corrected at the real instant.
  let instant = wall - offsetAt(zone, wall);
  instant = wall - offsetAt(zone, instant);
  return instant;
}

/** Every period of a granularity between two local dates (inclusive), in order. */
export function periodsBetween(from: string, to: string, granularity: Granularity): string[] {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number];
  const out: string[] = [];
  if (granularity === 'YEAR') {
    for (let y = fy; y <= ty; y += 1) out.push(String(y).padStart(4, '0'));
  } else if (granularity === 'MONTH') {
    for (let y = fy, m = fm; y < ty || (y === ty && m <= tm); m === 12 ? ((m = 1), (y += 1)) : (m += 1)) out.push(`${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`);
  } else {
    for (let t = Date.UTC(fy, fm - 1, fd); t <= Date.UTC(ty, tm - 1, td); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** `YYYY-MM-DD` of a real calendar date, or null. */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** Days from one local date to another (to − from). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The UTC day (`YYYYMMDD`) and 15-minute slot (0–95) an instant falls in. */
export function utcSlotOf(instant: number): { day: string; slot: number } {
  const dayStart = Math.floor(instant / DAY_MS) * DAY_MS;
  return { day: new Date(dayStart).toISOString().slice(0, 10).replaceAll('-', ''), slot: Math.floor((instant - dayStart) / SLOT_MS) };
}

/** The instant a UTC day (`YYYYMMDD`) and slot begin. */
export function instantOfSlot(day: string, slot: number): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8))) + slot * SLOT_MS;
}
