// The gateway's JSON API as the tests call it: a key, a method and a path; non-JSON answers come back as text.

// Test responses are read field by field, as JSON.
// biome-ignore lint/suspicious/noExplicitAny: response bodies in tests
export type Json = any;

export interface ApiResponse {
  status: number;
  body: Json;
  headers: Headers;
}

export type ApiCall = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiResponse>;

/** Calls `url` with the secret `key`; a string body is sent as it is, anything else as JSON. */
export function apiClient(url: string, key: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed as Json, headers: response.headers };
  };
}

/** The events written for one object, newest first, optionally of one type. */
export async function eventsOf(
  api: ApiCall,
  objectId: string,
  type?: string,
): Promise<{ type: string; data: { object: Json } }[]> {
  const query = new URLSearchParams({ object_id: objectId, limit: '100', ...(type ? { type } : {}) });
  return (await api('GET', `/v1/events?${query}`)).body.data;
}
