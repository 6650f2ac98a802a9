// Who may open an mweb_url, as WeChat's H5 page decides it: the browser must send a Referer, and once the merchant has
// registered H5 payment domains (商户平台 → 产品中心 → 开发配置 → H5支付域名), the Referer's host and redirect_url's
// host must each be one of them or a subdomain of one.
import { ok, type Result, refuse } from './result.js';

/** WeChat's page for an mweb_url opened with no Referer. */
export const REFERER_MISSING_TEXT = '商家参数格式有误，请联系商家解决';
/** WeChat's page for an mweb_url opened from, or returning to, a domain the merchant did not register. */
export const DOMAIN_NOT_REGISTERED_TEXT = '商家存在未配置的参数，请联系商家解决';

/** A host as WeChat's H5支付域名 form takes it: a domain name or an IPv4 address, no scheme, port or path. */
const HOST_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

const normalHost = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

/** Whether `host` is a registered domain or a subdomain of one (a.com covers x.a.com, as WeChat's H5 check does). */
export function onH5Domain(host: string, domains: readonly string[]): boolean {
  const h = normalHost(host);
  return domains.some((d) => h === d || h.endsWith(`.${d}`));
}

/** Validates a merchant's H5 payment domains: an array of hosts, stored lower-case and without duplicates. */
export function parseH5Domains(value: unknown): Result<string[]> {
  if (!Array.isArray(value))
    return refuse('PARAM_ERROR', 'h5_domains must be an array of hosts, e.g. ["shop.example"] ([] for none)');
  const domains: string[] = [];
  for (const item of value) {
    const host = typeof item === 'string' ? normalHost(item) : '';
    if (!HOST_PATTERN.test(host))
      return refuse(
        'PARAM_ERROR',
        `h5_domains: ${JSON.stringify(item)} is not a host. Give the domain only, as WeChat's H5支付域名 form takes ` +
          'it: "shop.example", not "https://shop.example/pay" or "shop.example:8443"',
      );
    if (!domains.includes(host)) domains.push(host);
  }
  return ok(domains);
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
};

/**
 * Checks the opening of an mweb_url. `referer` is what the payer's browser sent ('' for none); `redirectUrl` the
 * mweb_url's `redirect_url`, if the merchant appended one. With no registered domain any Referer is accepted.
 */
export function checkH5Opening(
  referer: string,
  redirectUrl: string | undefined,
  domains: readonly string[],
  setting: string,
): Result<void> {
  if (referer.trim() === '')
    return refuse(
      'MWEB_REFERER_MISSING',
      `${REFERER_MISSING_TEXT}: the page that sent the payer here sent no Referer: navigate from your registered H5 ` +
        'domain (check Referrer-Policy / <meta name=referrer>; no-referrer breaks H5 payment). A typed or pasted ' +
        "mweb_url sends none; a server's 302 to it carries the Referer of the page the payer left.",
    );
  if (domains.length === 0) return ok(undefined);
  const registered = `this merchant's H5 payment domains are ${domains.join(', ')} (each covers its subdomains)`;
  const fix = `register it (商户平台 → 产品中心 → 开发配置 → H5支付域名; in this sandbox ${setting}) or send the payer from one of them.`;
  const refererHost = hostOf(referer);
  if (refererHost === undefined)
    return refuse(
      'MWEB_DOMAIN_NOT_REGISTERED',
      `${DOMAIN_NOT_REGISTERED_TEXT}: the Referer ${JSON.stringify(referer)} is not a URL, so no host can be read ` +
        `from it; ${registered}. Let the browser send it from a page on one of them.`,
    );
  if (!onH5Domain(refererHost, domains))
    return refuse(
      'MWEB_DOMAIN_NOT_REGISTERED',
      `${DOMAIN_NOT_REGISTERED_TEXT}: the payer came from ${refererHost} (Referer ${referer}), which is not a ` +
        `registered H5 payment domain; ${registered}. Either ${fix}`,
    );
  const redirectHost = redirectUrl === undefined ? undefined : (hostOf(redirectUrl) ?? redirectUrl);
  if (redirectHost !== undefined && !onH5Domain(redirectHost, domains))
    return refuse(
      'MWEB_DOMAIN_NOT_REGISTERED',
      `${DOMAIN_NOT_REGISTERED_TEXT}: the redirect_url's host ${redirectHost} is not a registered H5 payment ` +
        `domain; ${registered}. WeChat checks the page it sends the payer back to as well. Either ${fix}`,
    );
  return ok(undefined);
}
