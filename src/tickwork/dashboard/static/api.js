// The REST API client: the one place that adds credentials and turns failures into errors.
//
// Credentials live in sessionStorage (gone when the tab closes) as a ready Authorization
// header. Requests are sent with `credentials: "omit"`, so the browser never shows its own
// Basic-auth prompt on a 401: the dashboard's login form asks instead. Every write says
// `Content-Type: application/json`, body or not: the API refuses other writes (a defence
// against cross-site forms), and the dashboard's are the API's own origin.

const STORAGE_KEY = "tickwork.authorization";

export class ApiError extends Error {
  /**
   * `status` is 0 when the server could not be reached; `field` is the input field a 4xx
   * names (e.g. "args"), when it names one.
   */
  constructor(status, message, challenge = "", field = null) {
    super(message);
    this.status = status;
    this.challenge = challenge;
    this.field = field;
  }
}

export class Api {
  /** `base` is the API prefix with a trailing slash, e.g. "/scheduler/". */
  constructor(base) {
    this.base = base;
    this.authorization = sessionStorage.getItem(STORAGE_KEY);
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  patch(path, body) {
    return this.request("PATCH", path, body);
  }

  delete(path) {
    return this.request("DELETE", path);
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.authorization) headers.Authorization = this.authorization;
    if (method !== "GET") headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "The scheduler cannot be reached.");
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message = data?.error_message || `${response.status} ${response.statusText}`.trim();
      const challenge = response.headers.get("WWW-Authenticate") || "";
      throw new ApiError(response.status, message, challenge, data?.field ?? null);
    }
    return data;
  }

  /** Remember an Authorization header value for this tab. */
  signIn(authorization) {
    this.authorization = authorization;
    sessionStorage.setItem(STORAGE_KEY, authorization);
  }

  signOut() {
    this.authorization = null;
    sessionStorage.removeItem(STORAGE_KEY);
  }
}

/** The Authorization header for HTTP Basic (Latin-1 when possible, as the server decodes). */
export function basicAuthorization(user, password) {
  const text = `${user}:${password}`;
  const latin1 = [...text].every((char) => char.charCodeAt(0) < 256);
  const binary = latin1 ? text : String.fromCharCode(...new TextEncoder().encode(text));
  return `Basic ${btoa(binary)}`;
}

/** The Authorization header for a bearer token. */
export function bearerAuthorization(token) {
  return `Bearer ${token.trim()}`;
}

/** A path segment for an id (ids may contain any text). */
export function segment(id) {
  return encodeURIComponent(id);
}
