// Every wxpay CLI test file.
