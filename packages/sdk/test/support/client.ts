// Builds a WechatPay client pointed at the mock server.
import { after, before, beforeEach } from 'node:test';
import { WechatPay, type WechatPayOptions } from '../../src/index.ts';
import { MERCHANT, type MockWechat, startMockWechat } from './mock-wechat.ts';

export function clientFor(mock: MockWechat, options: Partial<WechatPayOptions> = {}): WechatPay {
  return new WechatPay({
    ...MERCHANT,
    baseUrl: mock.url,
    ca: mock.ca.certPem,
    clientCert: { pfx: mock.clientCert.pfx },
    notifyUrl: 'https://merchant.example/notify',
    retryDelayMs: 1,
    ...options,
  });
}

/**
 * Registers the suite hooks every client test needs: a mock server and a client for it, started
 * once, with the request log cleared before each test. `ready` receives both.
 */
export function useMockWechat(
  ready: (mock: MockWechat, pay: WechatPay) => void,
  options: Partial<WechatPayOptions> = {},
): void {
  let mock: MockWechat | undefined;
  let pay: WechatPay | undefined;
  before(async () => {
    mock = await startMockWechat();
    pay = clientFor(mock, options);
    ready(mock, pay);
  });
  after(async () => {
    await pay?.close();
    await mock?.close();
  });
  beforeEach(() => {
    if (mock) mock.requests.length = 0;
  });
}
