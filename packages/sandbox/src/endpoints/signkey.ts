// getsignkey, from WeChat's retired sandboxnew: the sandbox key, signed for with the production key.
import { sandboxSignKey } from '../sandboxnew.js';
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
    return {
      kind: 'ok',
      fields: { return_msg: 'ok', result_code: undefined, sandbox_signkey: sandboxSignKey(ctx.merchant) },
    };
  },
};
