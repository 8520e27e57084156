// The hello world of aws-lambda-go: a handler that greets whoever the event names.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

// Event is what the function is invoked with: {"name": "..."}, or an HTTP API request (?name=...).
type Event struct {
	Name  string            `json:"name"`
	Query map[string]string `json:"queryStringParameters"`
}

// Response is what it answers.
type Response struct {
	Message string `json:"message"`
}

func handler(ctx context.Context, event Event) (Response, error) {
	name := event.Name
	if name == "" {
		name = event.Query["name"]
	}
	if name == "" {
		name = "world"
	}
	return Response{Message: fmt.Sprintf("Hello, %s!", name)}, nil
}

func main() {
	lambda.Start(handler)
}
