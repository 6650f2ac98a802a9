// Every @wxpay/sandbox test file.
