// Every @wxpay/sdk test file.
import './sign.test.ts';
import './xml.test.ts';
import './xml-control-characters.test.ts';
import './client.test.ts';
import './notify.test.ts';
import './params.test.ts';
import './bill.test.ts';
import './commonjs.test.ts';
import './payouts.test.ts';
import './wechat-pay-api.test.ts';
import './earlier-attempt.test.ts';
