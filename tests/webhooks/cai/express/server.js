// Seed 004's Express sample, unchanged but for the lines marked `parley:`: the port comes
// from the command line (0: any free one, logged), it listens on 127.0.0.1 only, and the
// test routes in testing.js are added.
const express = require('express')
const bodyParser = require('body-parser')

const app = express()
const port = Number(process.argv[2] || 5000) // parley: port from the command line
app.use(bodyParser.json())
require('./testing')(app) // parley: test routes, and a record of what /errors received

app.post('/', (req, res) => {
  console.log(req.body)

  res.send({
    replies: [{
      type: 'text',
      content: 'Roger that',
    }],
    conversation: {
      memory: { key: 'value' }
    }
  })
})

app.post('/errors', (req, res) => {
  console.log(req.body)
  res.send()
})

const server = app.listen(port, '127.0.0.1', () => { // parley: 127.0.0.1, the real port
  console.log(`Server is running on port ${server.address().port}`)
})
