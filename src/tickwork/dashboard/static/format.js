// Turning API values into short, readable text: trigger summaries, times, durations.
// Pure functions without DOM access, so every view formats the same way.

const CRON_FIELDS = ["year", "month", "day", "week", "day_of_week", "hour", "minute", "second"];
// APScheduler's rule: fields after the least significant given one take these values,
// fields before it are "*".
const CRON_DEFAULTS = {
  year: "*", month: "1", day: "1", week: "*", day_of_week: "*",
  hour: "0", minute: "0", second: "0",
};
// Field, short form (null: spelt out), singular name.
const INTERVAL_UNITS = [
  ["weeks", null, "week"], ["days", null, "day"], ["hours", "h", "hour"],
  ["minutes", "min", "minute"], ["seconds", "s", "second"],
];
const CALENDAR_UNITS = [["years", "year"], ["months", "month"], ["weeks", "week"], ["days", "day"]];

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium", timeStyle: "medium",
});

/** A one-line description of a job's trigger, e.g. "every 1 h 30 min" or "daily at 09:30". */
export function triggerSummary(job) {
  const { trigger, ...fields } = job;
  return describe(trigger, fields);
}

function describe(kind, fields) {
  switch (kind) {
    case "interval": return withZone(intervalText(fields), null, fields);
    case "cron": return withZone(cronText(fields), fields.timezone, fields);
    case "date": return `once at ${absolute(fields.run_date)}`;
    case "calendarinterval": return withZone(calendarText(fields), fields.timezone, fields);
    case "and":
    case "or": {
      const parts = (fields.triggers || []).map(({ type, ...child }) => describe(type, child));
      return `${kind === "and" ? "all of" : "any of"}: ${parts.join("; ")}`;
    }
    default: return String(kind);
  }
}

function withZone(text, zone, fields) {
  let result = text;
  if (zone && zone !== localZone) result += ` (${zone})`;
  if (fields.jitter) result += `, ±${fields.jitter} s jitter`;
  if (fields.end_date) result += `, until ${absolute(fields.end_date)}`;
  return result;
}

function intervalText(fields) {
  const given = INTERVAL_UNITS.filter(([name]) => Number(fields[name] || 0) !== 0);
  if (given.length === 1 && Number(fields[given[0][0]]) === 1) return `every ${given[0][2]}`;
  const parts = given.map(([name, short, unit]) => {
    const count = fields[name];
    return `${count} ${short || (Number(count) === 1 ? unit : `${unit}s`)}`;
  });
  return parts.length ? `every ${parts.join(" ")}` : "interval";
}

function calendarText(fields) {
  const given = CALENDAR_UNITS.filter(([name]) => Number(fields[name] || 0) !== 0);
  const parts = given.map(([name, unit]) => {
    const count = Number(fields[name]);
    return count === 1 ? `1 ${unit}` : `${count} ${unit}s`;
  });
  const time = clock(fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0);
  return `every ${parts.join(" ")} at ${time}`;
}

function cronText(fields) {
  const given = CRON_FIELDS.filter((name) => fields[name] !== undefined && fields[name] !== null);
  if (!given.length) return "cron";
  const last = CRON_FIELDS.indexOf(given[given.length - 1]);
  const full = {};
  CRON_FIELDS.forEach((name, index) => {
    if (given.includes(name)) full[name] = String(fields[name]);
    else full[name] = index > last ? CRON_DEFAULTS[name] : "*";
  });
  const plain = (name) => /^\d+$/.test(full[name]);
  const anyDay = ["year", "month", "day", "week"].every((name) => full[name] === "*");
  if (anyDay && plain("hour") && plain("minute") && plain("second")) {
    const time = clock(full.hour, full.minute, full.second);
    return full.day_of_week === "*" ? `daily at ${time}` : `at ${time} on ${full.day_of_week}`;
  }
  const everyHour = anyDay && full.day_of_week === "*" && full.hour === "*";
  if (everyHour && plain("minute") && plain("second")) {
    const second = Number(full.second) ? `:${pad(full.second)}` : "";
    return `hourly at :${pad(full.minute)}${second}`;
  }
  return `cron ${given.map((name) => `${name}=${fields[name]}`).join(" ")}`;
}

function clock(hour, minute, second) {
  const time = `${pad(hour)}:${pad(minute)}`;
  return Number(second) ? `${time}:${pad(second)}` : time;
}

function pad(value) {
  return String(value).padStart(2, "0");
}

/** A date and time in the reader's locale and zone; "" for null. */
export function absolute(iso) {
  return iso ? absoluteFormat.format(new Date(iso)) : "";
}

/** "in 5 sec." or "3 min. ago", relative to `now` (milliseconds). */
export function relative(iso, now = Date.now()) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const steps = [
    ["second", 1, 60], ["minute", 60, 60], ["hour", 3600, 24], ["day", 86400, Infinity],
  ];
  for (const [unit, size, limit] of steps) {
    const count = Math.round(seconds / size);
    if (Math.abs(count) < limit) return relativeFormat.format(count, unit);
  }
  return "";
}

/** How long ago `iso` was, never negative (the browser's clock may run behind the server's). */
export function age(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  return seconds < 120 ? `${seconds} s ago` : relative(iso, now);
}

/** A duration in seconds as "12 ms", "1.25 s", "2 min 3 s" or "1 h 4 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 0.001) return "<1 ms";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}
