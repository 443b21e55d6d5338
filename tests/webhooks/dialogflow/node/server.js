// A fulfillment webhook written as dialogflow-fulfillment's samples write one, on Express.
// Usage: node server.js <port>. It knows nothing of parley.
'use strict';

const express = require('express');
const { WebhookClient, Card, Suggestion, Payload } = require('dialogflow-fulfillment');

const PRICES = { speaker: 1599, powerbank: 1799 };

function checkPrice(agent) {
  const product = agent.parameters.product_name;
  agent.add(`The ${product} costs Rs.${PRICES[product]}.`);
  agent.add(new Suggestion('Buy now'));
  agent.add(new Suggestion('See other products'));
  agent.context.set({ name: 'shop', lifespan: 5, parameters: { last_product: product } });
}

function buy(agent) {
  const shop = agent.context.get('shop');
  if (!shop) {
    agent.add('What would you like to buy?');
    return;
  }
  agent.add(`Added the ${shop.parameters.last_product} to your cart.`);
  agent.context.delete('shop');
}

function showProduct(agent) {
  agent.add(new Card({
    title: 'Alarm clock speaker',
    text: 'Rs.1599',
    imageUrl: 'https://shop.example.com/speaker.png',
    buttonText: 'Details',
    buttonUrl: 'https://shop.example.com/speaker',
  }));
  agent.add(new Payload(agent.UNSPECIFIED, { channel: 'web', sku: 'SPK-1' }));
}

function welcome(agent) {
  agent.add(`Welcome! You said "${agent.query}" in ${agent.locale}.`);
}

const app = express();
app.use(express.json());

app.post('/webhook', (request, response) => {
  const agent = new WebhookClient({ request, response });
  const intentMap = new Map();
  intentMap.set('check_price', checkPrice);
  intentMap.set('buy', buy);
  intentMap.set('show_product', showProduct);
  intentMap.set('welcome', welcome);
  agent.handleRequest(intentMap);
});

const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
