// getsignkey, from WeChat's retired sandboxnew: the sandbox key, signed for with the production key.
import { createHash } from 'node:crypto';
import { NONCE } from './common.js';
import type { EndpointDef } from './types.js';

export const getSignKey: EndpointDef = {
  name: 'getsignkey',
  path: '/sandboxnew/pay/getsignkey',
  cert: false,
  reply: 'unsigned',
  appidField: null,
  mchIdField: 'mch_id',
  signTypes: 'MD5',
  problems: 'return',
  rules: [{ name: 'mch_id', required: true, max: 32 }, NONCE],
  handle(ctx) {
    // Stable per merchant, so a client that caches it keeps working across restarts.
    const key = createHash('md5').update(`sandbox-signkey:${ctx.merchant.key}`).digest('hex');
    return { kind: 'ok', fields: { return_msg: 'ok', result_code: undefined, sandbox_signkey: key } };
  },
};
