// Builds a WechatPay client pointed at the mock server.
import { WechatPay, type WechatPayOptions } from '../../src/index.ts';
import { MERCHANT, type MockWechat } from './mock-wechat.ts';

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
