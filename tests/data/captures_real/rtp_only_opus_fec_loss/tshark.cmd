tshark -n -q -o rtp.heuristic_rtp:TRUE -r capture.pcapng -z rtp,streams
tshark -n -r capture.pcapng -Y sip -T fields -E occurrence=a -E aggregator=| -e sip.Call-ID -e sip.Method
