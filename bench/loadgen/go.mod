module github.com/fenestra/bench/loadgen

go 1.26

require github.com/HdrHistogram/hdrhistogram-go v1.2.0
