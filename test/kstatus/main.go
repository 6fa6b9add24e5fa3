// Command kstatus prints what sigs.k8s.io/cli-utils' kstatus library, the one Flux and kpt
// use, computes for each object it reads: a JSON array of objects on stdin, a JSON array
// of {status, message} on stdout, in the same order.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading objects:", err)
		os.Exit(1)
	}
	// apimachinery's decoder, as client-go's: integers become int64, which kstatus requires.
	var objects []interface{}
	if err := utiljson.Unmarshal(input, &objects); err != nil {
		fmt.Fprintln(os.Stderr, "reading objects:", err)
		os.Exit(1)
	}
	results := make([]result, 0, len(objects))
	for _, object := range objects {
		fields, ok := object.(map[string]interface{})
		if !ok {
			fmt.Fprintln(os.Stderr, "not an object:", object)
			os.Exit(1)
		}
		computed, err := status.Compute(&unstructured.Unstructured{Object: fields})
		if err != nil {
			fmt.Fprintln(os.Stderr, "computing status:", err)
			os.Exit(1)
		}
		results = append(results, result{Status: computed.Status.String(), Message: computed.Message})
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "writing results:", err)
		os.Exit(1)
	}
}
