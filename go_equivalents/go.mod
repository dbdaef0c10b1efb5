module concurrency-patterns/go_equivalents

go 1.25
