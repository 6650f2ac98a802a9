// Writes the CommonJS face of `@wxpay/sdk/wechat-pay-api`: require() returns the class itself, as
// the wechat-pay-api package did, and it shares the main bundle so error classes stay one and the same.
import { writeFileSync } from 'node:fs';

writeFileSync(
  'dist/wechat-pay-api.cjs',
  "'use strict';\n// require('@wxpay/sdk/wechat-pay-api') returns the WechatPayApi class.\nmodule.exports = require('./index.cjs').WechatPayApi;\n",
);
writeFileSync(
  'dist/wechat-pay-api.d.cts',
  "import { WechatPayApi } from './index.js';\nexport = WechatPayApi;\n",
);
