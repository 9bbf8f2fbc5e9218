dtp_e2e(e2e.consumer consumer.sh LABELS loopback TIMEOUT 300)
