// The bot's webhook, written like SAP CAI's Express sample: parley POSTs CAI's default body
// ({conversation: {memory, ...}, nlp: {...}}) to /price when `check_price` has its
// `product`; this answers {replies, conversation: {memory}}.
//
//     npm install && node server.js [PORT]      # default 9000, on 127.0.0.1
const express = require('express')
const bodyParser = require('body-parser')

const app = express()
const port = Number(process.argv[2] || 9000)
app.use(bodyParser.json())

const PRICES = { tea: 120, coffee: 150 }

app.post('/price', (req, res) => {
  console.log(req.body)
  const memory = req.body.conversation.memory // the conversation data, entities in it
  const product = memory.product && memory.product.value
  if (!(product in PRICES)) {
    // Any status but 2xx: the node's `failure:` answer, and a report to POST /errors.
    return res.status(404).send({ error: `no price for ${product}` })
  }
  const asked = (memory.asked || 0) + 1

  res.send({
    replies: [{
      type: 'text',
      content: `A ${product} costs Rs. ${PRICES[product]}.`,
    }, {
      type: 'quickReplies',
      content: {
        title: 'Anything else?',
        buttons: [
          { title: 'Tea', value: 'price of tea' },
          { title: 'Coffee', value: 'price of coffee' },
        ],
      },
    }],
    conversation: {
      // Replaces the whole memory: keep what you still need.
      memory: { asked, last_product: product },
    },
  })
})

app.post('/errors', (req, res) => {
  console.log(req.body)
  res.send()
})

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`Server is running on port ${server.address().port}`)
})
