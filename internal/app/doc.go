// Package app is Gyre's reference application: the REST API of the source
// articles, served in every region on the region's public endpoint beside
// the DynamoDB API.
//
//   - Items: POST /data stores a JSON object under a new ULID id with the
//     region that took the write; GET, PUT and DELETE /data/{id}; GET
//     /data?limit=&cursor= pages through them.
//   - Orders: POST /fill?customers=N&products=M creates sample customers and
//     products; POST /orders places an order for an existing customer and
//     product under a new order id; GET /orders/{orderId}?productId= reads
//     it back.
//   - GET /health answers 200 only while the region's data plane answers a
//     real read within a deadline, so health checks see a region whose
//     storage is broken and not just a live process.
//
// The application reaches its data only through its region's DynamoDB
// endpoint, with aws-sdk-go-v2 and SigV4, like the Lambda functions of the
// articles: it is the first user of Gyre's own API. Its four tables are
// global tables, created once from the primary region with a replica in
// every region, where the sample data is also seeded; the other regions
// wait for the tables to arrive by replication before they serve.
//
// A caller builds an App with New, mounts its handler (Handler, or the App
// itself, on the paths of Paths), calls Start to begin setting up the
// tables in the background, and Shutdown when the region stops.
package app
