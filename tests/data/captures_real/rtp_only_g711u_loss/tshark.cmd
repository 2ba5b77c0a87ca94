tshark -n -q -o rtp.heuristic_rtp:TRUE -r capture.pcap -z rtp,streams
tshark -n -r capture.pcap -Y sip -T fields -E occurrence=a -E aggregator=| -e sip.Call-ID -e sip.Method
